#include "backfill/checkpoint.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

namespace imgpipe::backfill {
namespace {

using Json = nlohmann::ordered_json;

Json counts_json(const Counts& counts) {
  Json classes = Json::object();
  for (const auto object_class : all_classes()) {
    classes[class_name(object_class)] = counts.of(object_class);
  }
  return {{"listed", counts.listed},
          {"matched", counts.matched},
          {"classes", classes},
          {"enqueued", counts.enqueued},
          {"list_requests", counts.list_requests},
          {"head_requests", counts.head_requests}};
}

Counts parse_counts(const Json& json) {
  Counts counts;
  counts.listed = json.at("listed").get<std::uint64_t>();
  counts.matched = json.at("matched").get<std::uint64_t>();
  counts.enqueued = json.at("enqueued").get<std::uint64_t>();
  counts.list_requests = json.value("list_requests", std::uint64_t{0});
  counts.head_requests = json.value("head_requests", std::uint64_t{0});
  for (const auto object_class : all_classes()) {
    counts.of(object_class) = json.at("classes").value(class_name(object_class), std::uint64_t{0});
  }
  return counts;
}

}  // namespace

std::filesystem::path default_state_dir() {
  if (const char* dir = std::getenv("IMGPIPE_STATE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* dir = std::getenv("XDG_STATE_HOME"); dir != nullptr && *dir != '\0') {
    return std::filesystem::path(dir) / "imgpipe";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".local" / "state" / "imgpipe";
  }
  return "/tmp/imgpipe-state";
}

std::string checkpoint_json(const Checkpoint& checkpoint) {
  const Json json = {{"version", 1},
                     {"fingerprint", checkpoint.fingerprint},
                     {"source_index", checkpoint.next.source_index},
                     {"continuation_token", checkpoint.next.continuation_token},
                     {"counts", counts_json(checkpoint.counts)}};
  return json.dump(2) + "\n";
}

Result<Checkpoint> parse_checkpoint(const std::string& text) {
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || json.value("version", 0) != 1) {
    return make_error(Reason::invalid_config, "not an imgpipe backfill checkpoint (version 1)");
  }
  try {
    Checkpoint checkpoint;
    checkpoint.fingerprint = json.at("fingerprint").get<std::string>();
    checkpoint.next.source_index = json.at("source_index").get<std::size_t>();
    checkpoint.next.continuation_token = json.at("continuation_token").get<std::string>();
    checkpoint.counts = parse_counts(json.at("counts"));
    return checkpoint;
  } catch (const Json::exception& error) {
    return make_error(Reason::invalid_config, std::string("checkpoint: ") + error.what());
  }
}

CheckpointFile::CheckpointFile(std::filesystem::path path, std::string fingerprint)
    : path_(std::move(path)), fingerprint_(std::move(fingerprint)) {}

Result<std::optional<Checkpoint>> CheckpointFile::load() const {
  std::ifstream in(path_);
  if (!in) return std::optional<Checkpoint>();
  std::stringstream text;
  text << in.rdbuf();
  auto checkpoint = parse_checkpoint(text.str());
  if (!checkpoint) {
    return make_error(Reason::invalid_config,
                      path_.string() + ": " + checkpoint.error().message + " (--restart)");
  }
  if (checkpoint->fingerprint != fingerprint_) {
    return make_error(Reason::invalid_config,
                      path_.string() + " is the checkpoint of another backfill (--restart)");
  }
  return std::optional<Checkpoint>(std::move(checkpoint).value());
}

Status CheckpointFile::save(const Checkpoint& checkpoint) {
  Checkpoint named = checkpoint;
  named.fingerprint = fingerprint_;
  std::error_code error;
  std::filesystem::create_directories(path_.parent_path(), error);
  const auto temporary = std::filesystem::path(path_.string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << checkpoint_json(named);
    out.flush();
    if (!out) {
      return make_error(Reason::internal, "cannot write the checkpoint " + temporary.string());
    }
  }
  std::filesystem::rename(temporary, path_, error);
  if (error) {
    return make_error(Reason::internal,
                      "cannot replace the checkpoint " + path_.string() + ": " + error.message());
  }
  return ok_status();
}

Status CheckpointFile::remove() const {
  std::error_code error;
  std::filesystem::remove(path_, error);
  if (error) {
    return make_error(Reason::internal,
                      "cannot remove the checkpoint " + path_.string() + ": " + error.message());
  }
  return ok_status();
}

}  // namespace imgpipe::backfill
