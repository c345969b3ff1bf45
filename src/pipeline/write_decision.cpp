#include "pipeline/write_decision.h"

#include <algorithm>
#include <cctype>

#include "pipeline/products.h"
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

WriteDecision decide_write(const std::optional<s3::ObjectInfo>& existing,
                           const SourceVersion& source) {
  if (!existing) return WriteDecision::write;
  if (!has_source_marker(existing->metadata)) return WriteDecision::collision;
  const auto recorded_key = metadata_value(*existing, kSourceKeyMetadata);
  // Written by an imgpipe that did not record its source key yet: ours, of
  // unknown provenance; overwriting it is what that version did.
  if (recorded_key && *recorded_key != source_id(source)) return WriteDecision::collision;
  if (metadata_value(*existing, kSourceEtagMetadata) == source.etag) {
    return WriteDecision::up_to_date;
  }
  const auto recorded_sequencer = metadata_value(*existing, kSourceSequencerMetadata);
  if (recorded_sequencer) {
    const auto order = compare_sequencers(*recorded_sequencer, source.sequencer);
    if (order && *order > 0) return WriteDecision::newer_exists;
  }
  return WriteDecision::write;
}

}  // namespace imgpipe::pipeline
