#include "pipeline/rules.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>

#include "common/ascii.h"

namespace imgpipe::pipeline {
namespace {

bool content_type_matches(const std::string& pattern, const std::string& actual) {
  if (pattern.empty() || actual.empty()) return true;
  const std::string type = ascii_lower(actual.substr(0, actual.find(';')));
  if (pattern.size() > 2 && pattern.ends_with("/*")) {
    return type.rfind(ascii_lower(pattern.substr(0, pattern.size() - 1)), 0) == 0;
  }
  return type == ascii_lower(pattern);
}

constexpr std::array<std::string_view, 7> kPlaceholders = {"key",     "dir",  "name",  "ext",
                                                           "variant", "etag", "format"};

// The text before the first and after the last placeholder.
std::pair<std::string, std::string> fixed_ends(const std::string& key_template) {
  const auto open = key_template.find('{');
  if (open == std::string::npos) return {key_template, key_template};
  const auto close = key_template.rfind('}');
  return {key_template.substr(0, open), key_template.substr(close + 1)};
}

// "{dir}/{name}" for a key without a directory gives "/name": a leading '/'
// and empty segments are dropped.
std::string drop_empty_segments(const std::string& key) {
  std::string cleaned;
  for (char c : key) {
    if (c == '/' && (cleaned.empty() || cleaned.back() == '/')) continue;
    cleaned += c;
  }
  return cleaned;
}

}  // namespace

bool matches(const Match& match, const ObjectRef& object) {
  if (object.bucket != match.bucket) return false;
  if (!match.prefix.empty() && object.key.rfind(match.prefix, 0) != 0) return false;
  if (!match.suffix.empty() && !ascii_lower(object.key).ends_with(ascii_lower(match.suffix)))
    return false;
  if (!match.glob.empty() && fnmatch(match.glob.c_str(), object.key.c_str(), 0) != 0) return false;
  if (!content_type_matches(match.content_type, object.content_type)) return false;
  return object.size >= match.min_size && object.size <= match.max_size;
}

std::string render_key(const std::string& key_template, const KeyParts& parts) {
  const auto slash = parts.key.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : parts.key.substr(0, slash);
  const std::string file = slash == std::string::npos ? parts.key : parts.key.substr(slash + 1);
  const auto dot = file.rfind('.');
  const std::string name = dot == std::string::npos || dot == 0 ? file : file.substr(0, dot);
  const std::string ext = dot == std::string::npos || dot == 0 ? "" : file.substr(dot + 1);
  const std::map<std::string, std::string> values = {{"key", parts.key},
                                                     {"dir", dir},
                                                     {"name", name},
                                                     {"ext", ext},
                                                     {"variant", parts.variant},
                                                     {"etag", parts.etag},
                                                     {"format", parts.format_extension}};

  std::string out;
  for (std::size_t i = 0; i < key_template.size();) {
    const auto close = key_template[i] == '{' ? key_template.find('}', i) : std::string::npos;
    if (close != std::string::npos) {
      auto value = values.find(key_template.substr(i + 1, close - i - 1));
      if (value != values.end()) {
        out += value->second;
        i = close + 1;
        continue;
      }
    }
    out += key_template[i++];
  }
  return drop_empty_segments(out);
}

std::vector<std::string> unknown_placeholders(const std::string& key_template) {
  std::vector<std::string> unknown;
  for (std::size_t open = key_template.find('{'); open != std::string::npos;
       open = key_template.find('{', open + 1)) {
    const auto close = key_template.find('}', open);
    if (close == std::string::npos) {
      unknown.push_back(key_template.substr(open));
      break;
    }
    const std::string name = key_template.substr(open + 1, close - open - 1);
    if (std::find(kPlaceholders.begin(), kPlaceholders.end(), name) == kPlaceholders.end()) {
      unknown.push_back("{" + name + "}");
    }
  }
  return unknown;
}

bool could_retrigger(const Output& output, const Match& match) {
  if (output.bucket != match.bucket) return false;
  std::string key_template = output.key_template;
  const auto& format = output.recipe.encoder.format;
  if (format != "keep") {
    for (auto at = key_template.find("{format}"); at != std::string::npos;
         at = key_template.find("{format}")) {
      key_template.replace(at, 8, image::format_extension(format));
    }
  }
  // The fixed ends as render_key() writes them (found by tests/fuzz: "/{key}"
  // writes "{key}", which a prefix match takes again).
  const auto [head, tail] = fixed_ends(drop_empty_segments(key_template));
  const bool templated = key_template.find('{') != std::string::npos;
  if (!match.prefix.empty()) {
    const bool compatible =
        head.rfind(match.prefix, 0) == 0 || (templated && match.prefix.rfind(head, 0) == 0);
    if (!compatible) return false;
  }
  if (!match.suffix.empty()) {
    const std::string suffix = ascii_lower(match.suffix);
    const std::string fixed_tail = ascii_lower(tail);
    const bool compatible =
        fixed_tail.ends_with(suffix) || (templated && suffix.ends_with(fixed_tail));
    if (!compatible) return false;
  }
  return true;
}

}  // namespace imgpipe::pipeline
