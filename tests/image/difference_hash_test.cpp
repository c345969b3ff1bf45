#include "image/difference_hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace imgpipe::image {
namespace {

// A picture drawn by `grey(x, y)`, as 1 or 3 bands, rows padded by `padding`
// bytes of 255 (which must never be read as pixels).
struct Picture {
  std::vector<unsigned char> bytes;
  PixelView view;
};

Picture draw(int width, int height, int bands, const std::function<int(int, int)>& grey,
             int padding = 0) {
  Picture picture;
  const std::size_t row_bytes = static_cast<std::size_t>(width) * bands + padding;
  picture.bytes.assign(row_bytes * height, 255);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int b = 0; b < bands; ++b)
        picture.bytes[static_cast<std::size_t>(y) * row_bytes +
                      static_cast<std::size_t>(x) * bands + b] =
            static_cast<unsigned char>(grey(x, y));
    }
  }
  picture.view = {picture.bytes.data(), width, height, bands, row_bytes};
  return picture;
}

// Bits row by row, 8 per grid row, most significant first.
std::uint64_t every_row(std::uint8_t bits) {
  std::uint64_t hash = 0;
  for (int r = 0; r < 8; ++r) hash = (hash << 8) | bits;
  return hash;
}

TEST(DifferenceHash, IsAllZeroWhenThePictureBrightensToTheRight) {
  const auto picture = draw(90, 80, 3, [](int x, int) { return x * 2; });
  EXPECT_EQ(difference_hash(picture.view), 0u);
}

TEST(DifferenceHash, IsAllOnesWhenThePictureDarkensToTheRight) {
  const auto picture = draw(90, 80, 3, [](int x, int) { return 200 - x * 2; });
  EXPECT_EQ(difference_hash(picture.view), ~std::uint64_t{0});
}

TEST(DifferenceHash, SetsOneBitPerBrighterLeftCell) {
  // Columns of cells: bright, dark, bright, dark ... → 1,0,1,0,1,0,1,0.
  const auto picture = draw(90, 80, 1, [](int x, int) { return (x / 10) % 2 == 0 ? 200 : 50; });
  EXPECT_EQ(difference_hash(picture.view), every_row(0b10101010));
}

TEST(DifferenceHash, ComparesRowsOfCellsIndependently) {
  // Top half darkens to the right, bottom half brightens.
  const auto picture = draw(90, 80, 1, [](int x, int y) { return y < 40 ? 200 - x : 10 + x; });
  EXPECT_EQ(difference_hash(picture.view), 0xFFFFFFFF00000000ull);
}

TEST(DifferenceHash, WeighsColoursAsLuma) {
  // Green reads brighter than red of the same value, red brighter than blue.
  constexpr std::size_t kRowBytes = std::size_t{9} * 3;
  std::vector<unsigned char> bytes(kRowBytes * 8, 0);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 9; ++x)
      bytes[y * kRowBytes + static_cast<std::size_t>(x) * 3 +
            (x % 3 == 0   ? 1
             : x % 3 == 1 ? 0
                          : 2)] = 200;
  }
  // Cells: green, red, blue, green ... → green>red 1, red>blue 1, blue>green 0.
  const PixelView view{bytes.data(), 9, 8, 3, kRowBytes};
  EXPECT_EQ(difference_hash(view), every_row(0b11011011));
}

TEST(DifferenceHash, IgnoresRowPadding) {
  const auto grey = [](int x, int y) { return (x * 7 + y * 3) % 256; };
  const auto tight = draw(90, 80, 3, grey);
  const auto padded = draw(90, 80, 3, grey, 13);
  EXPECT_EQ(difference_hash(padded.view), difference_hash(tight.view));
}

TEST(DifferenceHash, GivesGreyAndEqualColourBandsTheSameHash) {
  const auto grey = [](int x, int y) { return (x * x + y * 5) % 256; };
  EXPECT_EQ(difference_hash(draw(120, 64, 1, grey).view),
            difference_hash(draw(120, 64, 3, grey).view));
}

TEST(DifferenceHash, SamplesALargePictureLikeItsSmallVersion) {
  // 2880x2560, sampled every 10th pixel: each 320 px cell has a 32 px white
  // stripe on its left and a flat grey whose order decides the bits. The
  // cells' means keep that order; a sampler that read too few pixels (the
  // first of each cell, say) would see white everywhere.
  const auto pattern = [](int cell_x, int cell_y) { return (cell_x * 37 + cell_y * 91) % 200; };
  const auto large = draw(
      2880, 2560, 1, [&](int x, int y) { return x % 320 < 32 ? 255 : pattern(x / 320, y / 320); });
  const auto small = draw(288, 256, 1, [&](int x, int y) { return pattern(x / 32, y / 32); });
  EXPECT_EQ(difference_hash(large.view), difference_hash(small.view));
  EXPECT_NE(difference_hash(small.view), 0u);
}

TEST(DifferenceHash, HashesPicturesSmallerThanTheGrid) {
  // 3x2: every cell is one of the six pixels; darkening to the right sets
  // the bits where a column boundary falls between two pixels.
  const auto picture = draw(3, 2, 1, [](int x, int) { return 200 - x * 50; });
  const std::uint64_t hash = difference_hash(picture.view);
  // Columns 0-2 map to x=0, 3-5 to x=1, 6-8 to x=2: bits 2 and 5 of each row.
  EXPECT_EQ(hash, every_row(0b00100100));
}

TEST(DifferenceHash, IsZeroForNoPixels) {
  EXPECT_EQ(difference_hash(PixelView{}), 0u);
  const std::vector<unsigned char> two_bands(16, 0);
  EXPECT_EQ(difference_hash(PixelView{two_bands.data(), 2, 2, 2, 4}), 0u);
}

}  // namespace
}  // namespace imgpipe::image
