#include "pipeline/key_collisions.h"

#include <algorithm>
#include <array>
#include <set>

#include "common/ascii.h"

namespace imgpipe::pipeline {
namespace {

bool has(const std::string& key_template, std::string_view placeholder) {
  return key_template.find(placeholder) != std::string::npos;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// Why a template with {dir}, {name} or {ext}, but not all three written as
// {dir}/{name}.{ext}, merges keys, and what fixes it.
std::string what_it_drops(const std::string& key_template) {
  const bool dir = has(key_template, "{dir}");
  const bool name = has(key_template, "{name}");
  const bool ext = has(key_template, "{ext}");
  if (dir && name && ext) {
    return "{dir}, {name} and {ext} tell keys apart only written as {dir}/{name}.{ext}; or use "
           "{key}";
  }
  std::vector<std::string> dropped, fixes;  // the fixes in the order they are written
  const auto drops = [&](bool present, const char* what, const char* fix) {
    if (present) return;
    dropped.emplace_back(what);
    fixes.insert(fixes.begin(), fix);
  };
  drops(ext, "the extension", "{ext}");
  drops(dir, "the directory", "{dir}/");
  drops(name, "the base name", "{name}");
  const std::string subject = name && !ext ? "{name}" : "it";
  return subject + " drops " + join(dropped, " and ") + "; add " + join(fixes, " and ") +
         " or use {key}";
}

// Source keys of every shape render_key() tells apart: with and without a
// directory and an extension. The directory is \x01, the base name \x02, the
// extension \x03 (and the ETag \x04): control characters, so that they cannot
// meet template text.
constexpr std::array<std::string_view, 4> kKeyShapes = {"\x01/\x02.\x03", "\x02.\x03", "\x01/\x02",
                                                        "\x02"};

// The keys `output` writes for a source key of `shape` in `input_format`.
std::set<std::string> keys_written(const Output& output, std::string_view shape,
                                   const std::string& input_format) {
  const std::string& format = output.recipe.encoder.format;
  const KeyParts parts{std::string(shape), "\x04", output.name,
                       image::format_extension(format == "keep" ? input_format : format)};
  const std::string key = render_key(output.key_template, parts);
  if (!output.sidecar) return {key};
  return {key, key + ".json"};
}

bool prefixes_overlap(const std::string& a, const std::string& b) {
  return a.starts_with(b) || b.starts_with(a);
}

bool suffixes_overlap(const std::string& a, const std::string& b) {
  const std::string lower_a = ascii_lower(a), lower_b = ascii_lower(b);
  return lower_a.ends_with(lower_b) || lower_b.ends_with(lower_a);
}

std::string output_path(std::size_t rule, std::size_t output) {
  return "rules[" + std::to_string(rule) + "].outputs[" + std::to_string(output) + "]";
}

struct Place {
  std::size_t rule, output;
};

// The first output before `here` that writes the same keys for an object both
// rules can take, if any.
std::optional<Place> earlier_same_keys(const std::vector<Rule>& rules, Place here) {
  const Rule& rule = rules[here.rule];
  const Output& output = rule.outputs[here.output];
  for (std::size_t i = 0; i <= here.rule; ++i) {
    if (!matches_can_overlap(rules[i].match, rule.match)) continue;
    const std::size_t end = i == here.rule ? here.output : rules[i].outputs.size();
    for (std::size_t j = 0; j < end; ++j) {
      const Output& other = rules[i].outputs[j];
      if (other.unique_keys && outputs_can_write_same_key(other, output)) return Place{i, j};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> why_keys_can_meet(const std::string& key_template) {
  if (has(key_template, "{key}") || has(key_template, "{dir}/{name}.{ext}")) return std::nullopt;
  if (!has(key_template, "{dir}") && !has(key_template, "{name}") && !has(key_template, "{ext}")) {
    return std::string("nothing in it comes from the source key") +
           (has(key_template, "{etag}") ? " ({etag} is the same for equal contents)" : "") +
           "; use {key}";
  }
  return what_it_drops(key_template);
}

bool matches_can_overlap(const Match& a, const Match& b) {
  return a.bucket == b.bucket && prefixes_overlap(a.prefix, b.prefix) &&
         suffixes_overlap(a.suffix, b.suffix) && a.min_size <= b.max_size &&
         b.min_size <= a.max_size;
}

bool outputs_can_write_same_key(const Output& a, const Output& b) {
  if (a.bucket != b.bucket) return false;
  for (const auto& shape : kKeyShapes) {
    for (const auto& format : image::format_names()) {
      const auto keys_a = keys_written(a, shape, format);
      const auto keys_b = keys_written(b, shape, format);
      const bool meet = std::any_of(keys_a.begin(), keys_a.end(),
                                    [&](const std::string& key) { return keys_b.count(key) > 0; });
      if (meet) return true;
    }
  }
  return false;
}

std::vector<std::string> key_collision_problems(const std::vector<Rule>& rules) {
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    for (std::size_t j = 0; j < rules[i].outputs.size(); ++j) {
      const Output& output = rules[i].outputs[j];
      if (!output.unique_keys) continue;
      const std::string at = output_path(i, j) + ".key: ";
      if (auto why = why_keys_can_meet(output.key_template)) {
        problems.push_back(at + "\"" + output.key_template +
                           "\" can render two source keys to one output key (" + *why + ")");
      }
      if (auto earlier = earlier_same_keys(rules, Place{i, j})) {
        problems.push_back(at + "renders the same keys as " +
                           output_path(earlier->rule, earlier->output) + " in bucket \"" +
                           output.bucket + "\" (one object would get both; add {variant} or " +
                           "another prefix)");
      }
    }
  }
  return problems;
}

}  // namespace imgpipe::pipeline
