// What to do to one image: a list of operations, colour handling, the
// encoder and what to keep of the metadata. A Recipe is plain data, built
// and validated by src/pipeline from the YAML configuration; render() in
// render.h carries it out with libvips.
//
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace imgpipe::image {

// Where a crop keeps its window. attention/entropy are libvips' smart crops.
enum class Gravity {
  centre,
  north,
  northeast,
  east,
  southeast,
  south,
  southwest,
  west,
  northwest,
  attention,
  entropy,
};

enum class ResizeMode {
  fit,   // inside the box, aspect kept
  fill,  // cover the box, then crop the overflow by gravity ("cover" is an alias)
  pad,   // inside the box, then letterbox to exactly the box with the background colour
};

using Colour = std::array<double, 3>;  // RGB, 0-255

struct Resize {
  int width = 0;   // 0: unconstrained (only height counts)
  int height = 0;  // 0: unconstrained (only width counts)
  ResizeMode mode = ResizeMode::fit;
  Gravity gravity = Gravity::centre;  // fill only
  bool upscale = false;               // false: never enlarge
};
struct Crop {  // cut a width x height window, no scaling
  int width = 0;
  int height = 0;
  Gravity gravity = Gravity::centre;
};
struct AspectCrop {  // the largest window of this ratio
  int ratio_width = 1;
  int ratio_height = 1;
  Gravity gravity = Gravity::centre;
};
struct SquareCrop {  // cover size x size, centre crop: the usual training-set input
  int size = 224;
};
struct Rotate {
  int degrees = 90;  // 90, 180 or 270, clockwise
};
struct Flip {
  bool horizontal = true;  // false: vertical
};
struct Sharpen {
  double sigma = 1.0;
};
struct Blur {
  double sigma = 1.0;
};

using Operation = std::variant<Resize, Crop, AspectCrop, SquareCrop, Rotate, Flip, Sharpen, Blur>;

enum class MetadataPolicy {
  strip,           // no EXIF, XMP, IPTC or ICC profile, in any format
  keep_copyright,  // only the EXIF copyright notice (and artist) survive
  keep,            // everything the saver can write
};

struct Encoder {
  std::string format = "keep";  // keep, jpeg, png, webp, avif, heif, gif, tiff
  int quality = 0;              // 0: the format's default (jpeg 85, webp 80, avif 50, heif 50)
  // jpeg
  bool progressive = false;
  std::string chroma = "auto";  // auto (4:2:0 below quality 90), 420, 444
  bool trellis = false;         // mozjpeg-only options: ignored by libjpeg-turbo
  bool optimize_scans = false;
  // png
  int compression = 6;  // 0-9
  bool palette = false;
  // webp, avif, heif
  bool lossless = false;
  int effort = 4;  // webp 0-6, avif 0-9; HEVC (heif) ignores it
  // tiff
  std::string tiff_compression = "deflate";  // none, deflate, lzw, jpeg
};

struct Animation {
  bool all_frames = false;  // false: the first frame only
};

// How far a JPEG is scaled down while it is decoded, when the first operation
// resizes it (libjpeg's DCT scaling by 2, 4 or 8: cheaper than decoding every
// pixel and resampling them). conservative is libvips' thumbnail: at least 2x
// is left for the resampling filter. fast leaves at least 1.5x, so a 12 MP
// photo fitted into 1024 px decodes at a quarter of its pixels.
enum class ShrinkOnLoad { fast, conservative };

struct Recipe {
  std::vector<Operation> operations;
  ShrinkOnLoad shrink_on_load = ShrinkOnLoad::fast;
  bool autorotate = true;            // apply the EXIF orientation, then drop the tag
  bool to_srgb = true;               // through the embedded ICC profile (CMYK included)
  Colour background{255, 255, 255};  // for pad, and for flattening alpha
  Encoder encoder;
  MetadataPolicy metadata = MetadataPolicy::strip;
  Animation animation;
};

// When a damaged image is rejected (libvips' fail_on): never, when truncated,
// on any decoder error, on any warning.
enum class FailOn { none, truncated, error, warning };

// Names used in configuration, logs and docs.
const char* gravity_name(Gravity gravity);
const char* format_extension(const std::string& format);    // "jpeg" -> "jpg"
std::string_view content_type_of(std::string_view format);  // "jpeg" -> "image/jpeg"
bool known_output_format(const std::string& format);
std::vector<std::string> format_names();  // jpeg, png, webp, gif, tiff, heif, avif
bool known_input_format(const std::string& format);
const char* fail_on_name(FailOn fail_on);                    // FailOn::none -> "none"
std::vector<std::string> fail_on_names();                    // none, truncated, error, warning
std::optional<FailOn> parse_fail_on(std::string_view name);  // nullopt: not a fail_on_names() name

// The safety limits of render(). These defaults are also the defaults of the
// pipeline.max_* settings, allowed_formats and fail_on.
struct Limits {
  std::uint64_t max_input_bytes = 256ull << 20;
  std::uint64_t max_input_pixels = 268'402'689;  // all frames together
  int max_frames = 100;
  std::set<std::string> allowed_formats = format_set();  // every format imgpipe knows
  FailOn fail_on = FailOn::truncated;

  static std::set<std::string> format_set();
};

}  // namespace imgpipe::image
