// The dHash of rendered pixels, computed on the pixels in memory: the mean
// grey of a 9x8 grid of cells, one bit per pair of horizontally adjacent
// cells (1 when the left one is brighter). Pictures that look alike differ in
// few bits whatever their size and encoding.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>

namespace imgpipe::image {

// 8-bit pixels, row after row: 1 band (grey) or 3 (sRGB), no alpha.
struct PixelView {
  const unsigned char* data = nullptr;
  int width = 0;
  int height = 0;
  int bands = 3;
  std::size_t row_bytes = 0;  // distance from one row to the next
};

// Cell means come from a regular sample of at least 32x32 pixels per cell
// (every pixel up to 288 across and 256 down): enough for a mean, and the hash of
// a 1024x768 output costs about 0.2 ms. A cell's grey is the
// luminance of its mean colour (Rec. 709, through linear light, as libvips
// turns sRGB into grey). Pictures smaller than the grid still get a hash
// (cells then share pixels).
std::uint64_t difference_hash(const PixelView& pixels);

}  // namespace imgpipe::image
