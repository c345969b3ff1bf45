// render(): decode untrusted bytes under limits, carry out a Recipe, encode.
// Also the per-image facts datasets want (perceptual hash, sizes, format).
//
// Failures carry reason codes: empty_object, not_an_image (no loader knows
// the bytes), format_not_allowed (an untrusted loader such as svg, blocked
// by Runtime, or a format not in allowed_formats),
// too_many_bytes / too_many_pixels / too_many_frames (decided
// from the header before decoding), decode_failed (broken or truncated
// under the fail_on policy), encode_failed.
//
// Thread-safety: safe to call from many threads once an image::Runtime exists.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "image/recipe.h"
#include "image/runtime.h"

namespace imgpipe::image {

struct SourceInfo {
  int width = 0;   // as stored (before EXIF rotation)
  int height = 0;  // one frame
  int frames = 1;
  std::string format;  // jpeg, png, webp, gif, tiff, heif, avif
  bool progressive = false;
  int orientation = 1;  // EXIF orientation, 1-8
};

struct Rendered {
  SourceInfo source;
  std::string bytes;
  int width = 0;
  int height = 0;  // of one frame
  int frames = 1;
  std::string format;
  std::string content_type;
  std::uint64_t phash = 0;  // 64-bit dHash of the rendered image
  int threads = 1;          // what libvips' thread pools took for this image's pipelines
};

// Reads only the header and checks it against the limits.
Result<SourceInfo> inspect(std::string_view bytes, const Limits& limits);

// `threads`: how many threads libvips may give this one image (the calling
// thread waits for them). 1 suits a worker whose cores are all rendering
// other images; more lets a lone image finish sooner on idle cores, at about
// the same CPU (JPEG decoding stays on one thread, resampling and colour
// work spread).
Result<Rendered> render(std::string_view bytes, const Recipe& recipe, const Limits& limits,
                        int threads = 1);

// The factor (1, 2, 4 or 8) ShrinkOnLoad::fast has libjpeg scale a
// width x height JPEG by while decoding it for a downscale by `shrink`
// (source size / output size): the largest that leaves at least 1.5x to the
// resampling filter and at least 2 pixels on the shorter side. Exposed for
// the benchmark's ceiling, which must do the same work.
int fast_jpeg_shrink(double shrink, int width, int height);

// 16 lower-case hex digits.
std::string hash_hex(std::uint64_t hash);
// Number of differing bits: 0 for the same picture, ~32 for unrelated ones.
int hash_distance(std::uint64_t a, std::uint64_t b);

}  // namespace imgpipe::image
