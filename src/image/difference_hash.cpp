#include "image/difference_hash.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace imgpipe::image {
namespace {

constexpr int kColumns = 9;
constexpr int kRows = 8;
constexpr int kSamplesPerCell = 32;  // per direction

struct Span {
  int begin;
  int end;
};

// Cell `i` of `cells` across `length` pixels; never empty, so that a picture
// narrower than the grid still fills every cell.
Span cell_span(int i, int cells, int length) {
  const int begin = static_cast<int>(static_cast<long long>(i) * length / cells);
  const int end = static_cast<int>(static_cast<long long>(i + 1) * length / cells);
  return {std::min(begin, length - 1), std::max(end, begin + 1)};
}

// Every step-th pixel along an axis of `cells` cells: at least
// kSamplesPerCell per cell, each axis on its own (a 100000x256 picture is
// sampled sparsely across, densely down).
int sample_step(int length, int cells) {
  return std::max(1, length / (cells * kSamplesPerCell));
}

// Mean of each band over the sampled pixels of one cell.
std::array<double, 3> cell_mean(const PixelView& pixels, Span xs, Span ys, int step_x, int step_y) {
  std::array<std::uint64_t, 3> sums{};
  std::uint64_t count = 0;
  for (int y = ys.begin; y < ys.end; y += step_y) {
    const unsigned char* row = pixels.data + static_cast<std::size_t>(y) * pixels.row_bytes;
    for (int x = xs.begin; x < xs.end; x += step_x) {
      const unsigned char* p = row + static_cast<std::size_t>(x) * pixels.bands;
      for (int b = 0; b < pixels.bands; ++b) sums[b] += p[b];
      ++count;
    }
  }
  std::array<double, 3> means{};
  for (int b = 0; b < pixels.bands; ++b)
    means[b] = static_cast<double>(sums[b]) / static_cast<double>(count);
  return means;
}

double linear_of(double encoded) {
  return encoded <= 0.04045 ? encoded / 12.92 : std::pow((encoded + 0.055) / 1.055, 2.4);
}

double encoded_of(double linear) {
  return linear <= 0.0031308 ? linear * 12.92 : 1.055 * std::pow(linear, 1 / 2.4) - 0.055;
}

// The cell's mean colour as sRGB grey (Rec. 709 luminance in linear light),
// rounded as an 8-bit grey picture holds it: cells that differ by a fraction
// of a level (flat areas) do not flip bits on sampling noise. libvips turns
// sRGB into grey the same way, so hashes stay close to those of imgpipe
// versions that hashed through libvips.
int grey_of(const std::array<double, 3>& mean, int bands) {
  if (bands == 1) return static_cast<int>(std::lround(mean[0]));
  const double luminance = 0.2126 * linear_of(mean[0] / 255) + 0.7152 * linear_of(mean[1] / 255) +
                           0.0722 * linear_of(mean[2] / 255);
  return static_cast<int>(std::lround(255 * encoded_of(luminance)));
}

}  // namespace

std::uint64_t difference_hash(const PixelView& pixels) {
  if (pixels.data == nullptr || pixels.width < 1 || pixels.height < 1) return 0;
  if (pixels.bands != 1 && pixels.bands != 3) return 0;
  const int step_x = sample_step(pixels.width, kColumns);
  const int step_y = sample_step(pixels.height, kRows);
  std::uint64_t hash = 0;
  for (int r = 0; r < kRows; ++r) {
    const Span ys = cell_span(r, kRows, pixels.height);
    std::array<int, kColumns> greys{};
    for (int c = 0; c < kColumns; ++c) {
      const Span xs = cell_span(c, kColumns, pixels.width);
      greys[c] = grey_of(cell_mean(pixels, xs, ys, step_x, step_y), pixels.bands);
    }
    for (int c = 0; c + 1 < kColumns; ++c) hash = (hash << 1) | (greys[c] > greys[c + 1] ? 1u : 0u);
  }
  return hash;
}

}  // namespace imgpipe::image
