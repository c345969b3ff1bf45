#include "image/render.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <memory>
#include <unordered_set>
#include <vips/vips8>

#include "image/difference_hash.h"
#include "image/webp_metadata.h"

namespace imgpipe::image {
namespace {

using vips::VImage;
using vips::VOption;

std::string vips_message(const vips::VError& error) {
  std::string message = error.what();
  vips_error_clear();
  std::replace(message.begin(), message.end(), '\n', ' ');
  while (!message.empty() && message.back() == ' ') message.pop_back();
  // Some loaders fail after reporting the cause only as a warning (libpng on a
  // broken IHDR), leaving libvips' error buffer empty.
  if (message.empty()) return "libvips failed without saying why (a loader warning may say more)";
  return message;
}

void unref_blob(VipsBlob* blob) {
  vips_area_unref(reinterpret_cast<VipsArea*>(blob));
}
using Blob = std::unique_ptr<VipsBlob, decltype(&unref_blob)>;

// A blob that borrows the caller's bytes (no free function): they outlive it.
Blob borrow(std::string_view bytes) {
  return Blob(vips_blob_new(nullptr, bytes.data(), bytes.size()), &unref_blob);
}

Status check_bytes(std::string_view bytes, const Limits& limits) {
  if (bytes.empty()) return make_error(Reason::empty_object, "object is empty (0 bytes)");
  if (bytes.size() > limits.max_input_bytes) {
    return make_error(Reason::too_many_bytes, std::to_string(bytes.size()) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(limits.max_input_bytes));
  }
  return ok_status();
}

// The nickname of an untrusted loader that recognises `bytes`, or nullptr.
// Since libvips 8.15 the foreign-format searches (find_load_buffer, map) skip
// blocked loaders, so there an SVG looks like no format at all; this walks
// the loader classes themselves and asks each untrusted one.
const char* untrusted_loader_for(std::string_view bytes) {
  auto probe = [](VipsObjectClass* object_class, void* data) -> void* {
    auto* load_class = reinterpret_cast<VipsForeignLoadClass*>(object_class);
    const auto* text = static_cast<const std::string_view*>(data);
    if (G_TYPE_IS_ABSTRACT(G_OBJECT_CLASS_TYPE(object_class)) ||
        (VIPS_OPERATION_CLASS(load_class)->flags & VIPS_OPERATION_UNTRUSTED) == 0 ||
        load_class->is_a_buffer == nullptr ||
        load_class->is_a_buffer(text->data(), text->size()) == FALSE) {
      return nullptr;
    }
    return const_cast<char*>(object_class->nickname);
  };
  return static_cast<const char*>(vips_class_map_all(g_type_from_name("VipsForeignLoad"), probe,
                                                     const_cast<std::string_view*>(&bytes)));
}

// Refuses unknown formats and those libvips marks untrusted (blocked by Runtime).
Status check_loader(std::string_view bytes) {
  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  if (loader == nullptr) {
    vips_error_clear();
    if (const char* untrusted = untrusted_loader_for(bytes); untrusted != nullptr) {
      return make_error(
          Reason::format_not_allowed,
          std::string("format not accepted from untrusted input (") + untrusted + ")");
    }
    return make_error(Reason::not_an_image, "not an image format that imgpipe accepts");
  }
  const auto* type_class = vips_class_find("VipsForeignLoad", loader);
  if (type_class == nullptr ||
      (VIPS_OPERATION_CLASS(type_class)->flags & VIPS_OPERATION_UNTRUSTED) != 0) {
    return make_error(Reason::format_not_allowed,
                      std::string("format not accepted from untrusted input (") + loader + ")");
  }
  return ok_status();
}

std::string format_of(const VImage& image) {
  const std::string loader = image.get_string("vips-loader");
  std::string format = loader.substr(0, loader.find("load"));
  if (format == "heif" && image.get_typeof("heif-compression") != 0 &&
      std::string(image.get_string("heif-compression")) == "av1") {
    return "avif";
  }
  return format;
}

int int_field(const VImage& image, const char* name, int fallback) {
  return image.get_typeof(name) != 0 ? image.get_int(name) : fallback;
}

std::string loader_options(const Limits& limits, bool all_frames) {
  std::string options = std::string("fail_on=") + fail_on_name(limits.fail_on);
  if (all_frames) options += ",n=-1";
  return options;
}

Status check_pixels(std::uint64_t width, std::uint64_t height, std::uint64_t frames,
                    const Limits& limits) {
  if (width * height * frames > limits.max_input_pixels) {
    return make_error(Reason::too_many_pixels,
                      std::to_string(width) + "x" + std::to_string(height) +
                          (frames > 1 ? " x " + std::to_string(frames) + " frames" : "") +
                          " exceeds the limit of " + std::to_string(limits.max_input_pixels) +
                          " pixels");
  }
  return ok_status();
}

// ---- geometry ---------------------------------------------------------------

// The colour as pixel values of `image`; with_alpha adds an opaque alpha
// value when the image has alpha (embed needs it, flatten must not get it).
std::vector<double> background_for(const VImage& image, const Colour& colour, bool with_alpha) {
  std::vector<double> background;
  const int colour_bands = image.bands() - (image.has_alpha() ? 1 : 0);
  if (colour_bands == 1) {
    background.push_back(0.2126 * colour[0] + 0.7152 * colour[1] + 0.0722 * colour[2]);
  } else {
    background.assign(colour.begin(), colour.end());
  }
  const double scale = image.format() == VIPS_FORMAT_USHORT ? 257.0 : 1.0;
  for (auto& value : background) value *= scale;
  if (with_alpha && image.has_alpha()) background.push_back(255 * scale);
  return background;
}

// Top-left corner of a width x height window placed by gravity.
std::pair<int, int> window_origin(const VImage& image, int width, int height, Gravity gravity) {
  const int spare_x = image.width() - width;
  const int spare_y = image.height() - height;
  int left = spare_x / 2;
  int top = spare_y / 2;
  switch (gravity) {
    case Gravity::north: top = 0; break;
    case Gravity::south: top = spare_y; break;
    case Gravity::east: left = spare_x; break;
    case Gravity::west: left = 0; break;
    case Gravity::northeast: top = 0, left = spare_x; break;
    case Gravity::northwest: top = 0, left = 0; break;
    case Gravity::southeast: top = spare_y, left = spare_x; break;
    case Gravity::southwest: top = spare_y, left = 0; break;
    default: break;
  }
  return {left, top};
}

VImage crop_window(const VImage& image, int width, int height, Gravity gravity) {
  width = std::clamp(width, 1, image.width());
  height = std::clamp(height, 1, image.height());
  if (width == image.width() && height == image.height()) return image;
  if (gravity == Gravity::attention || gravity == Gravity::entropy) {
    return image.smartcrop(width, height,
                           VImage::option()->set("interesting", gravity == Gravity::attention
                                                                    ? VIPS_INTERESTING_ATTENTION
                                                                    : VIPS_INTERESTING_ENTROPY));
  }
  const auto [left, top] = window_origin(image, width, height, gravity);
  return image.extract_area(left, top, width, height);
}

// Box dimensions with 0 meaning "no constraint".
double scale_to_fit(int width, int height, int box_width, int box_height) {
  const double sx = box_width > 0 ? static_cast<double>(box_width) / width : INFINITY;
  const double sy = box_height > 0 ? static_cast<double>(box_height) / height : INFINITY;
  return std::min(sx, sy);
}

double scale_to_cover(int width, int height, int box_width, int box_height) {
  const double sx = box_width > 0 ? static_cast<double>(box_width) / width : 0;
  const double sy = box_height > 0 ? static_cast<double>(box_height) / height : 0;
  return std::max(sx, sy);
}

VImage scale_exactly(const VImage& image, int width, int height) {
  if (width == image.width() && height == image.height()) return image;
  return image.resize(
      static_cast<double>(width) / image.width(),
      VImage::option()->set("vscale", static_cast<double>(height) / image.height()));
}

VImage scale_by(const VImage& image, double scale) {
  const int width = std::max(1, static_cast<int>(std::lround(image.width() * scale)));
  const int height = std::max(1, static_cast<int>(std::lround(image.height() * scale)));
  return scale_exactly(image, width, height);
}

VImage letterbox(const VImage& image, int width, int height, const Colour& colour) {
  if (width <= image.width() && height <= image.height()) return image;
  return image.gravity(VIPS_COMPASS_DIRECTION_CENTRE, std::max(width, image.width()),
                       std::max(height, image.height()),
                       VImage::option()
                           ->set("extend", VIPS_EXTEND_BACKGROUND)
                           ->set("background", background_for(image, colour, true)));
}

// A resize on an image already in memory (the operation is not the first).
VImage apply_resize(const VImage& image, const Resize& resize, const Colour& background) {
  if (resize.mode == ResizeMode::fill) {
    double scale = scale_to_cover(image.width(), image.height(), resize.width, resize.height);
    if (!resize.upscale) scale = std::min(scale, 1.0);
    const VImage covered = scale_by(image, scale);
    return crop_window(covered, resize.width > 0 ? resize.width : covered.width(),
                       resize.height > 0 ? resize.height : covered.height(), resize.gravity);
  }
  double scale = scale_to_fit(image.width(), image.height(), resize.width, resize.height);
  if (!resize.upscale) scale = std::min(scale, 1.0);
  VImage fitted = scale_by(image, scale);
  if (resize.mode == ResizeMode::pad)
    fitted = letterbox(fitted, resize.width, resize.height, background);
  return fitted;
}

VImage apply_aspect(const VImage& image, const AspectCrop& aspect) {
  const double ratio = static_cast<double>(aspect.ratio_width) / aspect.ratio_height;
  int width = image.width();
  int height = image.height();
  if (static_cast<double>(width) / height > ratio) {
    width = static_cast<int>(std::lround(height * ratio));
  } else {
    height = static_cast<int>(std::lround(width / ratio));
  }
  return crop_window(image, width, height, aspect.gravity);
}

VImage apply_square(const VImage& image, const SquareCrop& square) {
  const VImage covered =
      scale_by(image, scale_to_cover(image.width(), image.height(), square.size, square.size));
  return crop_window(covered, square.size, square.size, Gravity::centre);
}

VipsAngle angle_of(int degrees) {
  switch (degrees) {
    case 90: return VIPS_ANGLE_D90;
    case 180: return VIPS_ANGLE_D180;
    case 270: return VIPS_ANGLE_D270;
    default: return VIPS_ANGLE_D0;
  }
}

struct ApplyOperation {
  const Recipe& recipe;
  VImage operator()(const VImage& image, const Resize& op) const {
    return apply_resize(image, op, recipe.background);
  }
  VImage operator()(const VImage& image, const Crop& op) const {
    return crop_window(image, op.width, op.height, op.gravity);
  }
  VImage operator()(const VImage& image, const AspectCrop& op) const {
    return apply_aspect(image, op);
  }
  VImage operator()(const VImage& image, const SquareCrop& op) const {
    return apply_square(image, op);
  }
  VImage operator()(const VImage& image, const Rotate& op) const {
    return image.rot(angle_of(op.degrees));
  }
  VImage operator()(const VImage& image, const Flip& op) const {
    return image.flip(op.horizontal ? VIPS_DIRECTION_HORIZONTAL : VIPS_DIRECTION_VERTICAL);
  }
  VImage operator()(const VImage& image, const Sharpen& op) const {
    const VipsInterpretation before = image.interpretation();
    return image.sharpen(VImage::option()->set("sigma", op.sigma)).colourspace(before);
  }
  VImage operator()(const VImage& image, const Blur& op) const {
    return image.gaussblur(op.sigma).cast(image.format());
  }
};

// ---- loading ----------------------------------------------------------------

bool swaps_axes(int orientation) {
  return orientation >= 5 && orientation <= 8;
}

// The upright size a thumbnail must come out at, where the caller knows it
// (fit, pad, cover without a smart crop; 0 x 0 where thumbnail crops to the
// box itself). A DCT-scaled decode rounds its size down, so thumbnail_image
// would work from a slightly different aspect ratio and could miss the size
// libvips' own path makes by a pixel.
struct ExactSize {
  int width = 0;
  int height = 0;
};

ExactSize scaled_size(int width, int height, double scale) {
  return {std::max(1, static_cast<int>(std::lround(width * scale))),
          std::max(1, static_cast<int>(std::lround(height * scale)))};
}

// thumbnail to `width` (thumb holds the other options; each call frees the
// VOption it is given): from the encoded bytes, libvips picking the
// shrink-on-load, or, when the fast policy lets a JPEG shrink more than
// libvips would, from the JPEG decoded at that scale, resized to `exact`.
VImage thumbnail_of(std::string_view bytes, const Recipe& recipe, const SourceInfo& source,
                    double shrink, int width, VOption* thumb, const std::string& options,
                    ExactSize exact = {}) {
  std::unique_ptr<VOption> owned(thumb);
  const int factor = recipe.shrink_on_load == ShrinkOnLoad::fast && source.format == "jpeg"
                         ? fast_jpeg_shrink(shrink, source.width, source.height)
                         : 1;
  if (factor > 1) {
    const std::string scaled = options + ",shrink=" + std::to_string(factor);
    const VImage decoded =
        VImage::new_from_buffer(bytes.data(), bytes.size(), scaled.c_str(),
                                VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
    if (exact.width > 0) {
      owned = std::make_unique<VOption>();
      owned->set("no_rotate", !recipe.autorotate)
          ->set("height", exact.height)
          ->set("size", VIPS_SIZE_FORCE);
      width = exact.width;
    }
    return decoded.thumbnail_image(width, owned.release());
  }
  auto blob = borrow(bytes);
  return VImage::thumbnail_buffer(blob.get(), width,
                                  owned.release()->set("option_string", options.c_str()));
}

// Loads through thumbnail (shrink-on-load: JPEG DCT scaling, WebP and HEIF
// scale-on-load) when the first operation is a resize; returns whether the
// first operation was consumed.
std::pair<VImage, bool> load(std::string_view bytes, const Recipe& recipe, const SourceInfo& source,
                             const std::string& options) {
  const Operation* first = recipe.operations.empty() ? nullptr : &recipe.operations.front();
  const auto* resize = first ? std::get_if<Resize>(first) : nullptr;
  const auto* square = first ? std::get_if<SquareCrop>(first) : nullptr;
  if (resize == nullptr && square == nullptr) {
    VImage image = VImage::new_from_buffer(bytes.data(), bytes.size(), options.c_str());
    if (recipe.autorotate) image = image.autorot();
    return {image, false};
  }

  int upright_width = source.width;
  int upright_height = source.height;
  if (recipe.autorotate && swaps_axes(source.orientation)) std::swap(upright_width, upright_height);

  VOption* thumb = VImage::option()->set("no_rotate", !recipe.autorotate);
  // A function call since libvips 8.16 (a constant before): not constexpr.
  const int kUnbounded = VIPS_MAX_COORD;

  if (square != nullptr) {
    thumb->set("height", square->size)
        ->set("crop", VIPS_INTERESTING_CENTRE)
        ->set("size", VIPS_SIZE_BOTH);
    const double cover = scale_to_cover(upright_width, upright_height, square->size, square->size);
    return {thumbnail_of(bytes, recipe, source, 1 / cover, square->size, thumb, options), true};
  }
  const VipsSize size = resize->upscale ? VIPS_SIZE_BOTH : VIPS_SIZE_DOWN;
  thumb->set("size", size);
  const bool smart_gravity = resize->gravity == Gravity::centre ||
                             resize->gravity == Gravity::attention ||
                             resize->gravity == Gravity::entropy;
  if (resize->mode == ResizeMode::fill) {
    double scale = scale_to_cover(upright_width, upright_height, resize->width, resize->height);
    if (!resize->upscale) scale = std::min(scale, 1.0);
    if (resize->width > 0 && resize->height > 0 && smart_gravity) {
      const VipsInteresting interesting =
          resize->gravity == Gravity::attention ? VIPS_INTERESTING_ATTENTION
          : resize->gravity == Gravity::entropy ? VIPS_INTERESTING_ENTROPY
                                                : VIPS_INTERESTING_CENTRE;
      thumb->set("height", resize->height)->set("crop", interesting);
      return {thumbnail_of(bytes, recipe, source, 1 / scale, resize->width, thumb, options), true};
    }
    // Cover the box by thumbnailing to the covering size, then crop by gravity.
    const ExactSize covering = scaled_size(upright_width, upright_height, scale);
    thumb->set("height", kUnbounded);
    VImage covered =
        thumbnail_of(bytes, recipe, source, 1 / scale, covering.width, thumb, options, covering);
    return {crop_window(covered, resize->width > 0 ? resize->width : covered.width(),
                        resize->height > 0 ? resize->height : covered.height(), resize->gravity),
            true};
  }
  double fit = scale_to_fit(upright_width, upright_height, resize->width, resize->height);
  if (!resize->upscale) fit = std::min(fit, 1.0);
  thumb->set("height", resize->height > 0 ? resize->height : kUnbounded);
  VImage fitted =
      thumbnail_of(bytes, recipe, source, 1 / fit, resize->width > 0 ? resize->width : kUnbounded,
                   thumb, options, scaled_size(upright_width, upright_height, fit));
  if (resize->mode == ResizeMode::pad)
    fitted = letterbox(fitted, resize->width, resize->height, recipe.background);
  return {fitted, true};
}

// ---- colour and metadata ----------------------------------------------------

VImage to_srgb(const VImage& image) {
  if (image.get_typeof(VIPS_META_ICC_NAME) != 0) {
    // Relative colorimetric: in-gamut colours stay where they are.
    return image.icc_transform(
        "srgb", VImage::option()->set("embedded", true)->set("intent", VIPS_INTENT_RELATIVE));
  }
  if (image.interpretation() == VIPS_INTERPRETATION_CMYK) {
    return image.icc_transform(
        "srgb",
        VImage::option()->set("input_profile", "cmyk")->set("intent", VIPS_INTENT_RELATIVE));
  }
  switch (image.interpretation()) {
    case VIPS_INTERPRETATION_sRGB:
    case VIPS_INTERPRETATION_B_W: return image;
    case VIPS_INTERPRETATION_GREY16: return image.colourspace(VIPS_INTERPRETATION_B_W);
    default: return image.colourspace(VIPS_INTERPRETATION_sRGB);
  }
}

bool format_has_alpha(const std::string& format) {
  return format != "jpeg";
}

std::vector<std::string> field_names(const VImage& image) {
  char** fields = vips_image_get_fields(image.get_image());
  std::vector<std::string> names;
  for (char** field = fields; *field != nullptr; ++field) names.emplace_back(*field);
  g_strfreev(fields);
  return names;
}

// EXIF (the block and the exif-* fields savers rebuild it from), XMP, IPTC.
bool is_descriptive_metadata(const std::string& name) {
  return name.rfind("exif-", 0) == 0 || name == VIPS_META_XMP_NAME || name == VIPS_META_IPTC_NAME;
}

// Keeps only the EXIF copyright and artist: every other EXIF, XMP and IPTC
// field is removed, and libvips drops EXIF tags whose field is gone when it
// saves.
VImage keep_copyright_only(VImage image) {
  static constexpr const char* keep[] = {"exif-data", "exif-ifd0-Copyright", "exif-ifd0-Artist"};
  image = image.copy();
  for (const auto& name : field_names(image)) {
    const bool wanted = std::find(std::begin(keep), std::end(keep), name) != std::end(keep);
    if (is_descriptive_metadata(name) && !wanted) image.remove(name.c_str());
  }
  return image;
}

// Removes every metadata field a saver could write: EXIF, XMP, IPTC and the
// ICC profile. The savers' own `strip` is not enough: libvips 8.14's webpsave
// ignores it, and libvips 8.15 deprecated strip for `keep`. webpsave 8.14
// even builds a new EXIF block without any field, so WebP outputs also go
// through remove_webp_metadata().
VImage without_metadata(VImage image) {
  image = image.copy();
  for (const auto& name : field_names(image)) {
    if (is_descriptive_metadata(name) || name == VIPS_META_ICC_NAME) image.remove(name.c_str());
  }
  return image;
}

// ---- encoding ---------------------------------------------------------------

std::string saver_suffix(const std::string& format) {
  if (format == "avif") return ".avif";
  if (format == "heif") return ".heic";
  return std::string(".") + format_extension(format);
}

// Whether a lossless source draws on at most 256 colours (a palette PNG or
// GIF, or a truecolour PNG that only looks like one). Its downscaled output
// gets a palette too: resampling adds in-between colours, and written as
// truecolour such an output is larger than the source at a fraction of the
// pixels. Looks at up to about a million pixels (a nearest-neighbour
// subsample, so only colours of the source), stopping at the 257th colour.
bool draws_on_a_palette(std::string_view bytes, const SourceInfo& source,
                        const std::string& options) {
  if (source.format != "png" && source.format != "gif") return false;
  VImage image = VImage::new_from_buffer(bytes.data(), bytes.size(), options.c_str(),
                                         VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
  if (image.format() != VIPS_FORMAT_UCHAR || image.bands() < 3 || image.bands() > 4) return false;
  const double pixels = static_cast<double>(image.width()) * image.height();
  const int step = std::max(1, static_cast<int>(std::ceil(std::sqrt(pixels / 1e6))));
  if (step > 1) image = image.subsample(step, step);
  std::size_t size = 0;
  std::unique_ptr<void, decltype(&g_free)> memory(image.write_to_memory(&size), &g_free);
  const auto* p = static_cast<const unsigned char*>(memory.get());
  const int bands = image.bands();
  std::unordered_set<std::uint32_t> colours;
  for (std::size_t i = 0; i + bands <= size; i += bands) {
    std::uint32_t colour = 0;
    for (int b = 0; b < bands; ++b) colour = (colour << 8) | p[i + b];
    if (colours.insert(colour).second && colours.size() > 256) return false;
  }
  return true;
}

// `palette`: write PNG with an 8-bit palette (the setting, or a source that
// draws on one). Truecolour PNG rows are filtered adaptively: without (the
// libvips default) smooth images come out 7-18% larger.
VOption* encoder_options(const std::string& format, const Encoder& encoder, bool strip,
                         bool palette) {
  VOption* options = VImage::option()->set("strip", strip);
  if (format == "jpeg") {
    options->set("Q", encoder.quality > 0 ? encoder.quality : 85)
        ->set("interlace", encoder.progressive)
        ->set("optimize_coding", true)
        ->set("trellis_quant", encoder.trellis)
        ->set("optimize_scans", encoder.optimize_scans)
        ->set("subsample_mode", encoder.chroma == "444"   ? VIPS_FOREIGN_SUBSAMPLE_OFF
                                : encoder.chroma == "420" ? VIPS_FOREIGN_SUBSAMPLE_ON
                                                          : VIPS_FOREIGN_SUBSAMPLE_AUTO);
  } else if (format == "png") {
    // Palette indices are not samples: filtering them makes them larger.
    options->set("compression", encoder.compression)
        ->set("filter", palette ? VIPS_FOREIGN_PNG_FILTER_NONE : VIPS_FOREIGN_PNG_FILTER_ALL)
        ->set("palette", palette);
    if (encoder.quality > 0) options->set("Q", encoder.quality);
  } else if (format == "webp") {
    options->set("Q", encoder.quality > 0 ? encoder.quality : 80)
        ->set("lossless", encoder.lossless)
        ->set("effort", encoder.effort);
  } else if (format == "avif" || format == "heif") {
    options->set("Q", encoder.quality > 0 ? encoder.quality : 50)
        ->set("lossless", encoder.lossless)
        ->set("effort", encoder.effort)
        ->set("compression", format == "avif" ? VIPS_FOREIGN_HEIF_COMPRESSION_AV1
                                              : VIPS_FOREIGN_HEIF_COMPRESSION_HEVC);
  } else if (format == "tiff") {
    const auto& name = encoder.tiff_compression;
    options->set("compression", name == "none"   ? VIPS_FOREIGN_TIFF_COMPRESSION_NONE
                                : name == "lzw"  ? VIPS_FOREIGN_TIFF_COMPRESSION_LZW
                                : name == "jpeg" ? VIPS_FOREIGN_TIFF_COMPRESSION_JPEG
                                                 : VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE);
  }
  return options;
}

std::string encode(const VImage& image, const std::string& format, const Recipe& recipe,
                   bool palette) {
  void* buffer = nullptr;
  size_t length = 0;
  const bool strip = recipe.metadata == MetadataPolicy::strip;
  image.write_to_buffer(saver_suffix(format).c_str(), &buffer, &length,
                        encoder_options(format, recipe.encoder, strip, palette));
  std::unique_ptr<void, decltype(&g_free)> owned(buffer, &g_free);
  return std::string(static_cast<const char*>(buffer), length);
}

// The rendered picture as 8-bit grey or sRGB pixels in memory, for the
// dHash. The usual output (8-bit sRGB or grey, no alpha, already in memory)
// is used as it is; anything else is flattened, shrunk to a few hundred
// pixels and converted first.
VImage hashable_pixels(const VImage& image, int page_height) {
  const bool usable = image.format() == VIPS_FORMAT_UCHAR && !image.has_alpha() &&
                      (image.bands() == 1 || image.bands() == 3) &&
                      image.coding() == VIPS_CODING_NONE;
  if (usable) return image;
  VImage frame =
      image.height() > page_height ? image.extract_area(0, 0, image.width(), page_height) : image;
  if (frame.has_alpha())
    frame = frame.flatten(
        VImage::option()->set("background", background_for(frame, {255, 255, 255}, false)));
  // Each axis on its own, to at most a few hundred pixels: one scale for
  // both would squash the short side of a thin picture (4000x3 to 256x1).
  constexpr double kEnough = 256.0;
  const double across = std::min(1.0, kEnough / frame.width());
  const double down = std::min(1.0, kEnough / frame.height());
  if (across < 1.0 || down < 1.0)
    frame = frame.resize(across, VImage::option()->set("vscale", down));
  frame = frame.colourspace(VIPS_INTERPRETATION_sRGB).cast(VIPS_FORMAT_UCHAR);
  if (frame.bands() > 3) frame = frame.extract_band(0, VImage::option()->set("n", 3));
  return frame.copy_memory();
}

std::uint64_t hash_of(const VImage& image, int page_height) {
  const VImage pixels = hashable_pixels(image, page_height);
  PixelView view;
  view.data = static_cast<const unsigned char*>(pixels.data());
  view.width = pixels.width();
  view.height = std::min(page_height, pixels.height());
  view.bands = pixels.bands();
  view.row_bytes = VIPS_IMAGE_SIZEOF_LINE(pixels.get_image());
  return difference_hash(view);
}

// libvips sizes each pipeline's thread pool from the concurrency hint of the
// image it computes, else from the process-wide setting (1, Runtime). Set on
// the loaded image, the hint travels with the metadata to every image made
// from it (the metadata policies remove descriptive fields only).
VImage with_threads(VImage image, int threads) {
  if (threads <= 1) return image;
  image = image.copy();
  image.set(VIPS_META_CONCURRENCY, threads);
  return image;
}

Result<Rendered> render_checked(std::string_view bytes, const Recipe& recipe, const Limits& limits,
                                const SourceInfo& source, int threads) {
  const bool all_frames = recipe.animation.all_frames && source.frames > 1;
  if (all_frames) {
    if (source.frames > limits.max_frames) {
      return make_error(Reason::too_many_frames, std::to_string(source.frames) +
                                                     " frames exceeds the limit of " +
                                                     std::to_string(limits.max_frames));
    }
    if (auto pixels = check_pixels(source.width, source.height, source.frames, limits); !pixels) {
      return pixels.error();
    }
  }
  const std::string format =
      recipe.encoder.format == "keep" ? source.format : recipe.encoder.format;

  auto loaded = load(bytes, recipe, source, loader_options(limits, all_frames));
  VImage image = with_threads(loaded.first, threads);
  const std::size_t first = loaded.second ? 1 : 0;
  // thumbnail reads its input once, top to bottom; later operations (a
  // rotation, a smart crop) may read in any order, so they get the small
  // result in memory.
  if (first < recipe.operations.size()) image = image.copy_memory();
  if (recipe.to_srgb) image = to_srgb(image);
  const int frames = all_frames ? source.frames : 1;
  for (std::size_t i = first; i < recipe.operations.size(); ++i) {
    image = std::visit([&](const auto& op) { return ApplyOperation{recipe}(image, op); },
                       recipe.operations[i]);
  }
  if (image.has_alpha() && !format_has_alpha(format)) {
    image = image.flatten(
        VImage::option()->set("background", background_for(image, recipe.background, false)));
  }
  if (recipe.metadata == MetadataPolicy::keep_copyright) image = keep_copyright_only(image);
  if (recipe.metadata == MetadataPolicy::strip) image = without_metadata(image);
  const int page_height = image.height() / frames;
  if (frames > 1) image.set("page-height", page_height);

  // Decode errors surface here, in the first pass over the pixels.
  image = image.copy_memory();
  Rendered out;
  out.source = source;
  out.format = format;
  out.content_type = std::string(content_type_of(format));
  out.width = image.width();
  out.height = page_height;
  out.frames = frames;
  out.phash = hash_of(image, page_height);
  out.threads = vips_image_get_concurrency(image.get_image(), vips_concurrency_get());
  const bool palette =
      format == "png" &&
      (recipe.encoder.palette || draws_on_a_palette(bytes, source, loader_options(limits, false)));
  try {
    out.bytes = encode(image, format, recipe, palette);
  } catch (const vips::VError& error) {
    return make_error(Reason::encode_failed, vips_message(error));
  }
  if (format == "webp" && recipe.metadata == MetadataPolicy::strip) {
    auto stripped = remove_webp_metadata(out.bytes);
    if (!stripped) return stripped.error();
    out.bytes = std::move(stripped).value();
  }
  return out;
}

}  // namespace

Result<SourceInfo> inspect(std::string_view bytes, const Limits& limits) {
  if (auto size = check_bytes(bytes, limits); !size) return size.error();
  if (auto loader = check_loader(bytes); !loader) return loader.error();
  try {
    // Opening reads the header only; pixels decode lazily.
    const VImage header = VImage::new_from_buffer(
        bytes.data(), bytes.size(), "", VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
    SourceInfo info;
    info.format = format_of(header);
    info.width = header.width();
    info.frames = std::max(1, int_field(header, "n-pages", 1));
    info.height = int_field(header, "page-height", header.height());
    info.progressive = int_field(header, "interlaced", 0) != 0;
    info.orientation = int_field(header, "orientation", 1);
    if (!limits.allowed_formats.count(info.format)) {
      return make_error(Reason::format_not_allowed,
                        "format " + info.format + " is not in the allowed input formats");
    }
    if (auto pixels = check_pixels(info.width, info.height, 1, limits); !pixels)
      return pixels.error();
    return info;
  } catch (const vips::VError& error) {
    return make_error(Reason::decode_failed, vips_message(error));
  }
}

Result<Rendered> render(std::string_view bytes, const Recipe& recipe, const Limits& limits,
                        int threads) {
  auto source = inspect(bytes, limits);
  if (!source) return source.error();
  try {
    return render_checked(bytes, recipe, limits, source.value(), threads);
  } catch (const vips::VError& error) {
    return make_error(Reason::decode_failed, vips_message(error));
  }
}

// libjpeg's DCT scaling alone aliases more than a Lanczos reduce; what is
// left to the filter smooths that out.
int fast_jpeg_shrink(double shrink, int width, int height) {
  constexpr double kLeftToFilter = 1.5;
  constexpr int kShortestSide = 2;  // libvips rounds the scaled size down; 0 aborts it
  int factor = 1;
  for (const int candidate : {2, 4, 8}) {
    if (shrink >= candidate * kLeftToFilter && std::min(width, height) / candidate >= kShortestSide)
      factor = candidate;
  }
  return factor;
}

std::string hash_hex(std::uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

int hash_distance(std::uint64_t a, std::uint64_t b) {
  return std::popcount(a ^ b);
}

}  // namespace imgpipe::image
