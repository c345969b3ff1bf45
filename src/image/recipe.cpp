#include "image/recipe.h"

#include <string_view>

namespace imgpipe::image {

const char* gravity_name(Gravity gravity) {
  switch (gravity) {
    case Gravity::centre: return "centre";
    case Gravity::north: return "north";
    case Gravity::northeast: return "northeast";
    case Gravity::east: return "east";
    case Gravity::southeast: return "southeast";
    case Gravity::south: return "south";
    case Gravity::southwest: return "southwest";
    case Gravity::west: return "west";
    case Gravity::northwest: return "northwest";
    case Gravity::attention: return "attention";
    case Gravity::entropy: return "entropy";
  }
  return "centre";
}

namespace {

struct FormatInfo {
  std::string_view name, extension, content_type;
};

// Every format imgpipe reads and writes: its name in configuration, the
// extension {format} puts in keys, and the Content-Type of outputs.
constexpr FormatInfo kFormats[] = {
    {"jpeg", "jpg", "image/jpeg"},  {"png", "png", "image/png"},   {"webp", "webp", "image/webp"},
    {"gif", "gif", "image/gif"},    {"tiff", "tif", "image/tiff"}, {"heif", "heic", "image/heif"},
    {"avif", "avif", "image/avif"},
};

const FormatInfo* find_format(std::string_view name) {
  for (const auto& format : kFormats) {
    if (format.name == name) return &format;
  }
  return nullptr;
}

}  // namespace

const char* format_extension(const std::string& format) {
  const auto* info = find_format(format);
  return info != nullptr ? info->extension.data() : "bin";
}

std::string_view content_type_of(std::string_view format) {
  const auto* info = find_format(format);
  return info != nullptr ? info->content_type : "application/octet-stream";
}

bool known_input_format(const std::string& format) {
  return find_format(format) != nullptr;
}

std::vector<std::string> format_names() {
  std::vector<std::string> names;
  for (const auto& format : kFormats) names.emplace_back(format.name);
  return names;
}

bool known_output_format(const std::string& format) {
  return format == "keep" || known_input_format(format);
}

std::set<std::string> Limits::format_set() {
  const auto names = format_names();
  return {names.begin(), names.end()};
}

namespace {

constexpr FailOn kFailOns[] = {FailOn::none, FailOn::truncated, FailOn::error, FailOn::warning};

}  // namespace

const char* fail_on_name(FailOn fail_on) {
  switch (fail_on) {
    case FailOn::none: return "none";
    case FailOn::truncated: return "truncated";
    case FailOn::error: return "error";
    case FailOn::warning: return "warning";
  }
  return "truncated";
}

std::vector<std::string> fail_on_names() {
  std::vector<std::string> names;
  for (const auto fail_on : kFailOns) names.emplace_back(fail_on_name(fail_on));
  return names;
}

std::optional<FailOn> parse_fail_on(std::string_view name) {
  for (const auto fail_on : kFailOns) {
    if (name == fail_on_name(fail_on)) return fail_on;
  }
  return std::nullopt;
}

}  // namespace imgpipe::image
