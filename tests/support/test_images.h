// Synthetic test images made with libvips, so that unit tests need no files.
// Also registers a gtest environment that owns the libvips Runtime.
#pragma once

#include <string>

namespace imgpipe::testing_support {

// A colourful gradient of the given size, encoded with a libvips saver
// suffix (".jpg", ".png", ".webp" ...). `options` is a libvips option string
// such as "[Q=90]".
std::string make_image(int width, int height, const std::string& suffix, int bands = 3,
                       const std::string& options = "");

// A JPEG whose EXIF orientation tag is `orientation` (1-8), stored
// width x height, with a white marker in the stored top-left corner.
std::string make_oriented_jpeg(int width, int height, int orientation);

// A CMYK JPEG (no ICC profile).
std::string make_cmyk_jpeg(int width, int height);

struct Decoded {
  int width = 0;
  int height = 0;
  int bands = 0;
  std::string loader;
  std::string interpretation;
  bool has_exif = false;
};
// Decodes fully (so a broken image fails here) and describes the result.
Decoded decode(const std::string& bytes);

// Mean of band 0 over a small square at (x, y).
double mean_at(const std::string& bytes, int x, int y, int size);

}  // namespace imgpipe::testing_support

namespace imgpipe::testing_support {

// Shrinks an encoded image by `scale` (1.0 keeps the size) and re-encodes it
// with a libvips saver suffix and options, e.g. ".jpg[Q=80]" or ".webp".
std::string reencode(const std::string& bytes, double scale, const std::string& suffix);

// Width and height as displayed (EXIF orientation applied), from the header.
std::pair<int, int> upright_size(const std::string& bytes);

}  // namespace imgpipe::testing_support
