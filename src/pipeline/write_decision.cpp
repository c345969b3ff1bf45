#include "pipeline/write_decision.h"

#include <algorithm>
#include <cctype>

#include "pipeline/products.h"
#include "pipeline/recipe_fingerprint.h"
#include "s3/request.h"

namespace imgpipe::pipeline {
namespace {

std::optional<std::string> metadata_value(const s3::ObjectInfo& info, const char* name) {
  const auto it = info.metadata.find(name);
  if (it == info.metadata.end()) return std::nullopt;
  return it->second;
}

// The digits of a hexadecimal number without leading zeros, lower-case;
// nullopt when `text` is empty or not hexadecimal.
std::optional<std::string> normalised_hex(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::string digits;
  for (const char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    if (digits.empty() && c == '0') continue;
    digits += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return digits;
}

}  // namespace

std::string source_id(const SourceVersion& source) {
  return s3::uri_encode_path(source.bucket + "/" + source.key);
}

std::map<std::string, std::string> source_metadata(const SourceVersion& source) {
  std::map<std::string, std::string> out = {
      {kSourceEtagMetadata, source.etag.empty() ? "unknown" : source.etag},
      {kSourceKeyMetadata, source_id(source)},
  };
  if (!source.sequencer.empty()) out[kSourceSequencerMetadata] = source.sequencer;
  return out;
}

std::optional<int> compare_sequencers(const std::string& a, const std::string& b) {
  const auto left = normalised_hex(a);
  const auto right = normalised_hex(b);
  if (!left || !right) return std::nullopt;
  if (left->size() != right->size()) return left->size() < right->size() ? -1 : 1;
  const int order = left->compare(*right);
  return order < 0 ? -1 : (order > 0 ? 1 : 0);
}

bool derived_from(const s3::ObjectInfo& info, const SourceVersion& source) {
  return metadata_value(info, kSourceKeyMetadata) == source_id(source);
}

const char* output_state_name(OutputState state) {
  switch (state) {
    case OutputState::missing: return "missing";
    case OutputState::foreign: return "foreign";
    case OutputState::up_to_date: return "up_to_date";
    case OutputState::outdated: return "outdated";
    case OutputState::stale: return "stale";
    case OutputState::newer: return "newer";
  }
  return "missing";
}

OutputState output_state(const std::optional<s3::ObjectInfo>& existing, const SourceVersion& source,
                         const std::string& recipe) {
  if (!existing) return OutputState::missing;
  if (!has_source_marker(existing->metadata)) return OutputState::foreign;
  const auto recorded_key = metadata_value(*existing, kSourceKeyMetadata);
  // Written by an imgpipe that did not record its source key yet: ours, of
  // unknown provenance; overwriting it is what that version did.
  if (recorded_key && *recorded_key != source_id(source)) return OutputState::foreign;
  // The same version: sequencers are not compared (a backfill's synthetic
  // event carries a sequencer from the listing, a little below the real one).
  if (metadata_value(*existing, kSourceEtagMetadata) == source.etag) {
    return metadata_value(*existing, kRecipeMetadata) == recipe ? OutputState::up_to_date
                                                                : OutputState::outdated;
  }
  const auto recorded_sequencer = metadata_value(*existing, kSourceSequencerMetadata);
  if (recorded_sequencer) {
    const auto order = compare_sequencers(*recorded_sequencer, source.sequencer);
    if (order && *order > 0) return OutputState::newer;
  }
  return OutputState::stale;
}

WriteDecision decide_write(const std::optional<s3::ObjectInfo>& existing,
                           const SourceVersion& source, const std::string& recipe) {
  switch (output_state(existing, source, recipe)) {
    case OutputState::foreign: return WriteDecision::collision;
    case OutputState::up_to_date: return WriteDecision::up_to_date;
    case OutputState::newer: return WriteDecision::newer_exists;
    case OutputState::missing:
    case OutputState::outdated:
    case OutputState::stale: return WriteDecision::write;
  }
  return WriteDecision::write;
}

}  // namespace imgpipe::pipeline
