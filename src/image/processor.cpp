#include "image/processor.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vips/vips8>

namespace imgpipe::image {
namespace {

using vips::VImage;
using vips::VOption;

std::string vips_message(const vips::VError& error) {
  std::string message = error.what();
  vips_error_clear();
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::replace(message.begin(), message.end(), '\n', ' ');
  return message;
}

void vips_area_unref_blob(VipsBlob* blob) {
  vips_area_unref(reinterpret_cast<VipsArea*>(blob));
}

// Finds the loader for `bytes` and refuses those libvips marks untrusted
// (blocked for this process by Runtime).
Status check_loader(std::string_view bytes) {
  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  if (loader == nullptr) {
    vips_error_clear();
    return make_error(Reason::not_an_image, "not an image format that imgpipe accepts");
  }
  const auto* type_class = vips_class_find("VipsForeignLoad", loader);
  if (type_class == nullptr ||
      (VIPS_OPERATION_CLASS(type_class)->flags & VIPS_OPERATION_UNTRUSTED) != 0) {
    return make_error(Reason::not_an_image,
                      std::string("format not accepted from untrusted input (") + loader + ")");
  }
  return ok_status();
}

// "pngload_buffer" -> "png"; the HEIF loader reads both HEIC and AVIF.
std::string format_of(const VImage& image) {
  std::string loader = image.get_string("vips-loader");
  std::string format = loader.substr(0, loader.find("load"));
  if (format == "heif" && image.get_typeof("heif-compression") != 0 &&
      std::string(image.get_string("heif-compression")) == "av1") {
    return "avif";
  }
  return format;
}

Status check_size(std::string_view bytes, const Limits& limits) {
  if (bytes.empty()) return make_error(Reason::empty_object, "object is empty (0 bytes)");
  if (bytes.size() > limits.max_input_bytes) {
    return make_error(Reason::image_too_large, std::to_string(bytes.size()) +
                                                   " bytes exceeds the limit of " +
                                                   std::to_string(limits.max_input_bytes));
  }
  return ok_status();
}

Status check_pixels(const Header& header, const Limits& limits) {
  const auto pixels =
      static_cast<std::uint64_t>(header.width) * static_cast<std::uint64_t>(header.height);
  if (pixels > limits.max_input_pixels) {
    return make_error(Reason::image_too_large, std::to_string(header.width) + "x" +
                                                   std::to_string(header.height) +
                                                   " pixels exceeds the limit of " +
                                                   std::to_string(limits.max_input_pixels));
  }
  return ok_status();
}

// The saver suffix for a format, or JPEG for formats libvips cannot write.
std::string output_format_for(const std::string& input_format) {
  static constexpr std::string_view writable[] = {"jpeg", "png", "webp", "gif", "tiff", "heif"};
  for (auto format : writable) {
    if (input_format == format) return input_format;
  }
  return "jpeg";
}

VOption* save_options(const std::string& format, const FitSpec& spec) {
  VOption* options = VImage::option()->set("strip", true);
  if (format == "jpeg") options->set("Q", spec.jpeg_quality)->set("optimize_coding", true);
  if (format == "webp") options->set("Q", spec.webp_quality);
  if (format == "png") options->set("compression", 6);
  return options;
}

VImage flatten_if_needed(VImage image, const std::string& format) {
  if (format == "jpeg" && image.has_alpha()) {
    return image.flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}));
  }
  return image;
}

Result<Encoded> encode(VImage image, const std::string& format, const FitSpec& spec) {
  image = flatten_if_needed(image, format);
  void* buffer = nullptr;
  size_t length = 0;
  try {
    image.write_to_buffer(("." + (format == "heif" ? std::string("heic") : format)).c_str(),
                          &buffer, &length, save_options(format, spec));
  } catch (const vips::VError& error) {
    return make_error(Reason::encode_failed, vips_message(error));
  }
  std::unique_ptr<void, decltype(&g_free)> owned(buffer, &g_free);
  Encoded out;
  out.bytes.assign(static_cast<const char*>(buffer), length);
  out.width = image.width();
  out.height = image.height();
  out.format = format;
  out.content_type = std::string(content_type_of(format));
  return out;
}

}  // namespace

Runtime::Runtime(const char* program_name) {
  if (VIPS_INIT(program_name) != 0) vips_error_exit("cannot initialise libvips");
  vips_cache_set_max(0);
  vips_concurrency_set(1);
  vips_block_untrusted_set(TRUE);
}

Runtime::~Runtime() {
  vips_shutdown();
}

std::string_view content_type_of(std::string_view format) {
  if (format == "jpeg") return "image/jpeg";
  if (format == "png") return "image/png";
  if (format == "webp") return "image/webp";
  if (format == "gif") return "image/gif";
  if (format == "tiff") return "image/tiff";
  if (format == "heif") return "image/heif";
  if (format == "avif") return "image/avif";
  return "application/octet-stream";
}

Result<Header> probe(std::string_view bytes, const Limits& limits) {
  if (auto size = check_size(bytes, limits); !size) return size.error();
  if (auto loader = check_loader(bytes); !loader) return loader.error();
  try {
    // Opening from a buffer reads the header only; pixels decode lazily.
    VImage image = VImage::new_from_buffer(bytes.data(), bytes.size(), "",
                                           VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
    Header header{image.width(), image.height(), format_of(image)};
    if (auto pixels = check_pixels(header, limits); !pixels) return pixels.error();
    return header;
  } catch (const vips::VError& error) {
    return make_error(Reason::decode_failed, vips_message(error));
  }
}

Result<Encoded> fit_within(std::string_view bytes, const FitSpec& spec, const Limits& limits) {
  auto header = probe(bytes, limits);
  if (!header) return header.error();
  const std::string format = output_format_for(header->format);
  try {
    // The blob borrows the caller's bytes (no free function): they outlive it.
    std::unique_ptr<VipsBlob, decltype(&vips_area_unref_blob)> blob(
        vips_blob_new(nullptr, bytes.data(), bytes.size()), &vips_area_unref_blob);
    VImage thumbnail = VImage::thumbnail_buffer(blob.get(), spec.width,
                                                VImage::option()
                                                    ->set("height", spec.height)
                                                    ->set("size", VIPS_SIZE_DOWN)
                                                    ->set("export_profile", "srgb")
                                                    ->set("option_string", "fail_on=truncated"));
    // Materialise here so that decode errors are reported as such, not as encode errors.
    VImage pixels = thumbnail.copy_memory();
    auto encoded = encode(pixels, format, spec);
    if (encoded) encoded->input = header.value();
    return encoded;
  } catch (const vips::VError& error) {
    return make_error(Reason::decode_failed, vips_message(error));
  }
}

}  // namespace imgpipe::image
