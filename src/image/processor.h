// Image decoding, transformation and encoding over libvips.
//
// The pipeline hands encoded bytes in and gets encoded bytes out; nothing
// outside src/image sees a VipsImage. Inputs are untrusted: the header is
// checked against the limits before any pixel is decoded (decompression
// bombs), libvips' untrusted loaders (magick, svg, pdf, ...) are blocked,
// truncated files fail instead of yielding grey pixels.
//
// Thread-safety: after a Runtime exists, every function here may be called
// from many threads at once; each call works on its own images.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace imgpipe::image {

// Initialises libvips for server use for the lifetime of the object:
// operation cache off, untrusted loaders blocked, one thread per image
// (the worker parallelises across images). Create exactly one, in main.
class Runtime {
 public:
  explicit Runtime(const char* program_name);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
};

struct Limits {
  std::uint64_t max_input_bytes = 256ull << 20;  // 256 MiB
  std::uint64_t max_input_pixels = 268'402'689;  // 16383 x 16383, what WebP/JPEG encoders allow
};

struct FitSpec {
  int width = 1024;
  int height = 1024;
  int jpeg_quality = 85;
  int webp_quality = 80;
};

struct Header {
  int width = 0;
  int height = 0;
  std::string format;  // as below; the loader that recognised the bytes
};

struct Encoded {
  Header input;
  std::string bytes;
  int width = 0;
  int height = 0;
  std::string format;  // "jpeg", "png", "webp", "gif", "tiff", "heif", "avif"
  std::string content_type;
};

// Reads only the header. Failures: empty_object, not_an_image,
// image_too_large (bytes or pixels), decode_failed.
Result<Header> probe(std::string_view bytes, const Limits& limits);

// Shrinks to fit inside width x height (keeping the aspect ratio, never
// enlarging), rotates upright by the EXIF orientation, converts to sRGB,
// strips metadata, and encodes in the input's format (JPEG when libvips
// cannot write that format). Failures as probe(), plus decode_failed and
// encode_failed.
Result<Encoded> fit_within(std::string_view bytes, const FitSpec& spec, const Limits& limits);

// The MIME type for one of the format names above.
std::string_view content_type_of(std::string_view format);

}  // namespace imgpipe::image
