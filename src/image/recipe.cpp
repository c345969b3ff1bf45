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

const char* format_extension(const std::string& format) {
  if (format == "jpeg") return "jpg";
  if (format == "tiff") return "tif";
  if (format == "heif") return "heic";
  if (format == "png") return "png";
  if (format == "webp") return "webp";
  if (format == "gif") return "gif";
  if (format == "avif") return "avif";
  return "bin";
}

bool known_input_format(const std::string& format) {
  static constexpr std::string_view formats[] = {"jpeg", "png",  "webp", "gif",
                                                 "tiff", "heif", "avif"};
  for (auto known : formats) {
    if (format == known) return true;
  }
  return false;
}

bool known_output_format(const std::string& format) {
  return format == "keep" || known_input_format(format);
}

}  // namespace imgpipe::image
