// `imgpipe process`: the rule and image code of the worker on local files,
// without Kafka or S3. The file name stands for the key.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "cli/commands.h"
#include "image/runtime.h"
#include "observe/log.h"
#include "pipeline/config.h"
#include "pipeline/products.h"

namespace imgpipe::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

Result<std::string> read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return make_error(Reason::object_missing, path.string() + ": cannot be read");
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

Status write_file(const fs::path& path, std::string_view bytes) {
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (error || !file) return make_error(Reason::internal, path.string() + ": cannot be written");
  return ok_status();
}

ordered_json rejected(const std::string& input, const Error& error, ordered_json outputs) {
  return {{"input", input},
          {"status", "rejected"},
          {"reason", reason_name(error.reason)},
          {"error", error.message},
          {"outputs", std::move(outputs)}};
}

// Writes products under DIR/<bucket>/<key> and lists them for the JSON line.
class LocalFileSink final : public pipeline::ProductSink {
 public:
  explicit LocalFileSink(fs::path output_dir) : output_dir_(std::move(output_dir)) {}

  std::optional<Status> write(const pipeline::Rule& rule,
                              const pipeline::Product& product) override {
    const fs::path target = output_dir_ / product.bucket;
    if (auto written = write_file(target / product.key, product.body); !written) return written;
    if (!product.sidecar_key.empty()) {
      if (auto written = write_file(target / product.sidecar_key, product.sidecar_body); !written) {
        return written;
      }
    }
    outputs_.push_back({{"rule", rule.name},
                        {"variant", product.variant},
                        {"bucket", product.bucket},
                        {"key", product.key},
                        {"width", product.facts.width},
                        {"height", product.facts.height},
                        {"format", product.facts.format},
                        {"bytes", product.body.size()},
                        {"phash", image::hash_hex(product.facts.phash)}});
    return ok_status();
  }

  ordered_json take_outputs() { return std::exchange(outputs_, ordered_json::array()); }

 private:
  fs::path output_dir_;
  ordered_json outputs_ = ordered_json::array();
};

// Processes one file with the worker's loop over rules and outputs; the JSON
// line says what happened.
ordered_json process_one(const std::string& input, const ProcessOptions& options,
                         const pipeline::Config& config, pipeline::RenderSlots& slots) {
  auto bytes = read_file(input);
  if (!bytes) return rejected(input, bytes.error(), ordered_json::array());
  const pipeline::ObjectRef source{options.bucket, fs::path(input).filename().string(),
                                   bytes->size(), ""};
  const auto all_rules = config.effective_rules();
  const auto rules = pipeline::matching_rules(all_rules, source);
  if (rules.empty()) {
    return {{"input", input},
            {"status", "skipped"},
            {"reason", "no_matching_rule"},
            {"outputs", ordered_json::array()}};
  }
  LocalFileSink sink(options.output_dir);
  const auto outcome =
      pipeline::write_products(rules, source, *bytes, "local", config.limits(), sink, {}, &slots);
  if (outcome.first_failure) return rejected(input, *outcome.first_failure, sink.take_outputs());
  return {
      {"input", input}, {"status", "ok"}, {"reason", nullptr}, {"outputs", sink.take_outputs()}};
}

}  // namespace

int run_process(const CommonOptions& common, const ProcessOptions& options) {
  observe::init_logging(spdlog::level::warn, false);
  auto config = pipeline::load_config(common.config_path, pipeline::process_environment(),
                                      pipeline::Use::local);
  if (!config) {
    std::cerr << "invalid configuration:\n" << config.error().message << '\n';
    return 2;
  }
  image::Runtime vips("imgpipe");
  // Files one after another, each render on every core it may use.
  pipeline::RenderSlots slots(config->effective_renders());
  bool any_rejected = false;
  for (const auto& input : options.inputs) {
    const auto line = process_one(input, options, config.value(), slots);
    any_rejected = any_rejected || line["status"] == "rejected";
    std::cout << line.dump(-1, ' ', false, ordered_json::error_handler_t::replace) << '\n';
  }
  return any_rejected ? 2 : 0;
}

}  // namespace imgpipe::cli
