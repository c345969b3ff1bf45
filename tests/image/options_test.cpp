// Every field of image/recipe.h, shown to have its effect through render().
// Expected values come from geometry, from pixel colours painted here, or
// from libvips reading the output back; never from src/image itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <string>
#include <vips/vips8>

#include "image/recipe.h"
#include "image/render.h"
#include "support/awkward_corpus.h"
#include "support/test_images.h"

namespace imgpipe::image {
namespace {

namespace corpus = testing_support::corpus;
using testing_support::decode;
using testing_support::golden::colour_managed;
using testing_support::golden::edge_energy;
using testing_support::golden::load;
using testing_support::golden::max_step;
using testing_support::golden::mean_de00;
using testing_support::golden::mean_rgb;
using testing_support::golden::not_colour_managed;
using testing_support::golden::save;
using vips::VImage;

std::string describe(const Error& error) {
  return std::string(reason_name(error.reason)) + ": " + error.message;
}

Recipe with(std::vector<Operation> operations, const std::string& format = "keep") {
  Recipe recipe;
  recipe.operations = std::move(operations);
  recipe.encoder.format = format;
  return recipe;
}

// Renders and fails the test (returning an empty result) on error.
Rendered render_ok(const std::string& bytes, const Recipe& recipe, const Limits& limits = {}) {
  auto out = render(bytes, recipe, limits);
  if (!out.ok()) {
    ADD_FAILURE() << describe(out.error());
    return {};
  }
  return std::move(out).value();
}

VImage solid(int width, int height, const std::array<double, 3>& colour) {
  return (VImage::black(width, height, VImage::option()->set("bands", 3)) +
          std::vector<double>{colour[0], colour[1], colour[2]})
      .cast(VIPS_FORMAT_UCHAR)
      .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

void expect_colour(const std::array<double, 3>& seen, const std::array<double, 3>& expected,
                   double tolerance, const std::string& where) {
  for (std::size_t band = 0; band < 3; ++band) {
    EXPECT_NEAR(seen[band], expected[band], tolerance) << where << " band " << band;
  }
}

// 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left.
double corner_brightness(const VImage& image, int corner, int size = 30, int inset = 8) {
  const int x = (corner == 1 || corner == 2) ? image.width() - size - inset : inset;
  const int y = (corner == 2 || corner == 3) ? image.height() - size - inset : inset;
  return mean_rgb(image, x, y, size, size)[0];
}

void expect_marker_only_at(const VImage& image, int corner) {
  for (int c = 0; c < 4; ++c) {
    if (c == corner) {
      EXPECT_GT(corner_brightness(image, c), 200) << "marker expected at corner " << c;
    } else {
      EXPECT_LT(corner_brightness(image, c), 110) << "no marker expected at corner " << c;
    }
  }
}

// ---------------------------------------------------------------------------
// A 300x300 picture of 3x3 cells of 100x100, each its own colour.

constexpr int kCell = 100;
const std::array<std::array<std::array<double, 3>, 3>, 3> kGrid = {{
    {{{230, 30, 30}, {30, 200, 30}, {30, 30, 230}}},
    {{{230, 230, 30}, {230, 30, 230}, {30, 230, 230}}},
    {{{240, 140, 20}, {120, 40, 160}, {128, 128, 128}}},
}};

const std::string& grid_png() {
  static const std::string png = [] {
    std::vector<VImage> cells;
    for (const auto& row : kGrid) {
      for (const auto& colour : row) cells.push_back(solid(kCell, kCell, colour));
    }
    return save(VImage::arrayjoin(cells, VImage::option()->set("across", 3)), ".png");
  }();
  return png;
}

// The colour in the middle of cell (row, column) of an output made of cells.
std::array<double, 3> cell_colour(const VImage& image, int row, int column) {
  return mean_rgb(image, column * kCell + 30, row * kCell + 30, 40, 40);
}

struct GravityCase {
  Gravity gravity;
  int row;     // the grid row the window keeps
  int column;  // the grid column the window keeps
};

void PrintTo(const GravityCase& param, std::ostream* out) {
  *out << gravity_name(param.gravity);
}

class GravityOf : public ::testing::TestWithParam<GravityCase> {};

TEST_P(GravityOf, CropKeepsTheCellOnThatSide) {
  const auto& param = GetParam();
  const Rendered out = render_ok(grid_png(), with({Crop{kCell, kCell, param.gravity}}, "png"));
  ASSERT_EQ(out.width, kCell);
  ASSERT_EQ(out.height, kCell);
  expect_colour(cell_colour(load(out.bytes), 0, 0), kGrid[param.row][param.column], 3,
                gravity_name(param.gravity));
}

TEST_P(GravityOf, FillIntoANarrowBoxKeepsTheColumnOnThatSide) {
  const auto& param = GetParam();
  const Rendered out = render_ok(
      grid_png(), with({Resize{kCell, 3 * kCell, ResizeMode::fill, param.gravity, false}}, "png"));
  ASSERT_EQ(out.width, kCell);
  ASSERT_EQ(out.height, 3 * kCell);
  const VImage image = load(out.bytes);
  for (int row = 0; row < 3; ++row) {
    expect_colour(cell_colour(image, row, 0), kGrid[row][param.column], 3,
                  std::string(gravity_name(param.gravity)) + " row " + std::to_string(row));
  }
}

TEST_P(GravityOf, FillIntoAWideBoxKeepsTheRowOnThatSide) {
  const auto& param = GetParam();
  const Rendered out = render_ok(
      grid_png(), with({Resize{3 * kCell, kCell, ResizeMode::fill, param.gravity, false}}, "png"));
  ASSERT_EQ(out.width, 3 * kCell);
  ASSERT_EQ(out.height, kCell);
  const VImage image = load(out.bytes);
  for (int column = 0; column < 3; ++column) {
    expect_colour(cell_colour(image, 0, column), kGrid[param.row][column], 3,
                  std::string(gravity_name(param.gravity)) + " column " + std::to_string(column));
  }
}

TEST_P(GravityOf, AspectCropKeepsTheRowOnThatSide) {
  const auto& param = GetParam();
  const Rendered out = render_ok(grid_png(), with({AspectCrop{3, 1, param.gravity}}, "png"));
  ASSERT_EQ(out.width, 3 * kCell);
  ASSERT_EQ(out.height, kCell);
  expect_colour(cell_colour(load(out.bytes), 0, 1), kGrid[param.row][1], 3,
                gravity_name(param.gravity));
}

INSTANTIATE_TEST_SUITE_P(
    EveryEdgeAndCorner, GravityOf,
    ::testing::Values(GravityCase{Gravity::centre, 1, 1}, GravityCase{Gravity::north, 0, 1},
                      GravityCase{Gravity::northeast, 0, 2}, GravityCase{Gravity::east, 1, 2},
                      GravityCase{Gravity::southeast, 2, 2}, GravityCase{Gravity::south, 2, 1},
                      GravityCase{Gravity::southwest, 2, 0}, GravityCase{Gravity::west, 1, 0},
                      GravityCase{Gravity::northwest, 0, 0}),
    [](const auto& instance) { return std::string(gravity_name(instance.param.gravity)); });

TEST(Gravity, WestAndEastFillKeepTheRedAndTheBlueHalf) {
  const std::string halves = save(
      solid(200, 200, {220, 0, 0}).join(solid(200, 200, {0, 0, 220}), VIPS_DIRECTION_HORIZONTAL),
      ".png");
  const Rendered west =
      render_ok(halves, with({Resize{100, 200, ResizeMode::fill, Gravity::west, false}}, "png"));
  const Rendered east =
      render_ok(halves, with({Resize{100, 200, ResizeMode::fill, Gravity::east, false}}, "png"));
  expect_colour(mean_rgb(load(west.bytes), 0, 0, 100, 200), {220, 0, 0}, 2, "west");
  expect_colour(mean_rgb(load(east.bytes), 0, 0, 100, 200), {0, 0, 220}, 2, "east");
}

// 600x200, flat grey but for a colourful, detailed patch near the right edge.
const std::string& detail_on_the_right_png() {
  static const std::string png = [] {
    VImage flat = solid(600, 200, {128, 128, 128});
    auto band = [](int seed) {
      return VImage::gaussnoise(140, 160, VImage::option()->set("sigma", 90.0)->set("seed", seed));
    };
    VImage noise = band(1).bandjoin(band(2)).bandjoin(band(3)).cast(VIPS_FORMAT_UCHAR);
    return save(flat.insert(noise, 440, 20), ".png");
  }();
  return png;
}

class SmartGravity : public ::testing::TestWithParam<Gravity> {};

TEST_P(SmartGravity, CropFindsTheDetailedArea) {
  const Rendered out =
      render_ok(detail_on_the_right_png(), with({Crop{200, 200, GetParam()}}, "png"));
  ASSERT_EQ(out.width, 200);
  ASSERT_EQ(out.height, 200);
  const Rendered centre =
      render_ok(detail_on_the_right_png(), with({Crop{200, 200, Gravity::centre}}, "png"));
  EXPECT_LT(edge_energy(load(centre.bytes)), 1.0) << "the centre is flat";
  EXPECT_GT(edge_energy(load(out.bytes)), 20.0) << "the window holds the detail";
}

TEST_P(SmartGravity, FillFindsTheDetailedArea) {
  const Rendered out =
      render_ok(detail_on_the_right_png(),
                with({Resize{200, 200, ResizeMode::fill, GetParam(), false}}, "png"));
  ASSERT_EQ(out.width, 200);
  ASSERT_EQ(out.height, 200);
  EXPECT_GT(edge_energy(load(out.bytes)), 20.0) << "the window holds the detail";
}

INSTANTIATE_TEST_SUITE_P(AttentionAndEntropy, SmartGravity,
                         ::testing::Values(Gravity::attention, Gravity::entropy),
                         [](const auto& instance) {
                           return std::string(gravity_name(instance.param));
                         });

// ---------------------------------------------------------------------------
// Resize modes, upscale, one-sided boxes.

TEST(ResizeMode, FitShrinksInsideTheBoxKeepingTheAspectRatio) {
  const Rendered out =
      render_ok(corpus::photo_jpeg(), with({Resize{320, 320, ResizeMode::fit, Gravity::centre}}));
  EXPECT_EQ(out.width, 320);
  EXPECT_EQ(out.height, 200);
  EXPECT_EQ(decode(out.bytes).width, 320);
  EXPECT_EQ(decode(out.bytes).height, 200);
}

TEST(ResizeMode, FillCoversTheBoxExactly) {
  const Rendered out =
      render_ok(corpus::photo_jpeg(), with({Resize{200, 200, ResizeMode::fill, Gravity::centre}}));
  EXPECT_EQ(out.width, 200);
  EXPECT_EQ(out.height, 200);
  EXPECT_EQ(decode(out.bytes).width, 200);
  EXPECT_EQ(decode(out.bytes).height, 200);
}

TEST(ResizeMode, PadLetterboxesALandscapePictureToTheExactBoxInTheBackgroundColour) {
  Recipe recipe = with({Resize{200, 200, ResizeMode::pad, Gravity::centre}}, "png");
  recipe.background = {0, 128, 255};
  const Rendered out = render_ok(corpus::photo_jpeg(), recipe);
  ASSERT_EQ(out.width, 200);
  ASSERT_EQ(out.height, 200);
  const VImage image = load(out.bytes);
  // The picture is 200x125, centred: bars of 37-38 rows above and below.
  expect_colour(mean_rgb(image, 0, 0, 200, 30), {0, 128, 255}, 1, "top bar");
  expect_colour(mean_rgb(image, 0, 170, 200, 30), {0, 128, 255}, 1, "bottom bar");
  const auto middle = mean_rgb(image, 0, 60, 200, 80);
  EXPECT_GT(std::abs(middle[2] - 255) + std::abs(middle[0]), 50) << "the picture is in the middle";
}

TEST(ResizeMode, PadLetterboxesAPortraitPictureWithWhiteByDefault) {
  const std::string portrait = save(load(corpus::photo_jpeg()).rot90(), ".png");
  const Rendered out = render_ok(portrait, with({Resize{200, 200, ResizeMode::pad}}, "png"));
  ASSERT_EQ(out.width, 200);
  ASSERT_EQ(out.height, 200);
  const VImage image = load(out.bytes);
  expect_colour(mean_rgb(image, 0, 0, 30, 200), {255, 255, 255}, 1, "left bar");
  expect_colour(mean_rgb(image, 170, 0, 30, 200), {255, 255, 255}, 1, "right bar");
}

TEST(ResizeUpscale, OffNeverEnlarges) {
  const Rendered out = render_ok(
      corpus::photo_jpeg(), with({Resize{1280, 1280, ResizeMode::fit, Gravity::centre, false}}));
  EXPECT_EQ(out.width, corpus::kPhotoWidth);
  EXPECT_EQ(out.height, corpus::kPhotoHeight);
}

TEST(ResizeUpscale, OnEnlargesToTheBox) {
  const Rendered out = render_ok(
      corpus::photo_jpeg(), with({Resize{1280, 1280, ResizeMode::fit, Gravity::centre, true}}));
  EXPECT_EQ(out.width, 1280);
  EXPECT_EQ(out.height, 800);
}

TEST(ResizeUpscale, OffKeepsFillFromEnlargingASmallPicture) {
  const Rendered out = render_ok(
      corpus::photo_jpeg(), with({Resize{1000, 1000, ResizeMode::fill, Gravity::centre, false}}));
  EXPECT_LE(out.width, 1000);
  EXPECT_LE(out.height, 1000);
  EXPECT_LE(out.width, corpus::kPhotoWidth) << "no enlargement";
  EXPECT_LE(out.height, corpus::kPhotoHeight) << "no enlargement";
}

TEST(ResizeBox, WidthOnlyScalesTheHeightAlong) {
  const Rendered out = render_ok(corpus::photo_jpeg(), with({Resize{320, 0}}));
  EXPECT_EQ(out.width, 320);
  EXPECT_EQ(out.height, 200);
}

TEST(ResizeBox, HeightOnlyScalesTheWidthAlong) {
  const Rendered out = render_ok(corpus::photo_jpeg(), with({Resize{0, 100}}));
  EXPECT_EQ(out.width, 160);
  EXPECT_EQ(out.height, 100);
}

// ---------------------------------------------------------------------------
// Crops.

TEST(CropOperation, CutsAWindowWithoutScaling) {
  const Rendered out = render_ok(grid_png(), with({Crop{100, 50, Gravity::northwest}}, "png"));
  EXPECT_EQ(out.width, 100);
  EXPECT_EQ(out.height, 50);
  const VImage image = load(out.bytes);
  EXPECT_EQ(image.width(), 100);
  EXPECT_EQ(image.height(), 50);
  // Unscaled: the window is a single cell colour, edge to edge.
  expect_colour(mean_rgb(image, 0, 0, 100, 50), kGrid[0][0], 1, "top-left cell");
}

TEST(AspectCropOperation, CutsSixteenByNineFromALandscapePhoto) {
  const Rendered out = render_ok(corpus::photo_jpeg(), with({AspectCrop{16, 9}}));
  EXPECT_EQ(out.width, 640);
  EXPECT_EQ(out.height, 360);
}

TEST(AspectCropOperation, CutsSixteenByNineFromAPortraitPhoto) {
  const std::string portrait = save(load(corpus::photo_jpeg()).rot90(), ".png");
  const Rendered out = render_ok(portrait, with({AspectCrop{16, 9}}));
  EXPECT_EQ(out.width, 400);
  EXPECT_EQ(out.height, 225);
}

class SquareCropTo : public ::testing::TestWithParam<int> {};

TEST_P(SquareCropTo, GivesExactlyThatSquare) {
  const int size = GetParam();
  const Rendered out = render_ok(corpus::photo_jpeg(), with({SquareCrop{size}}, "png"));
  EXPECT_EQ(out.width, size);
  EXPECT_EQ(out.height, size);
  const auto decoded = decode(out.bytes);
  EXPECT_EQ(decoded.width, size);
  EXPECT_EQ(decoded.height, size);
}

INSTANTIATE_TEST_SUITE_P(TrainingSizes, SquareCropTo, ::testing::Values(224, 256, 512));

TEST(SquareCropOperation, KeepsTheCentre) {
  const Rendered out = render_ok(grid_png(), with({SquareCrop{100}}, "png"));
  ASSERT_EQ(out.width, 100);
  // Shrunk by 3, the centre cell fills the middle third.
  expect_colour(mean_rgb(load(out.bytes), 40, 40, 20, 20), kGrid[1][1], 3, "centre cell");
}

// ---------------------------------------------------------------------------
// Rotate and flip: the marker of an upright picture moves with them.

struct TurnCase {
  const char* name;
  Operation operation;
  int width;
  int height;
  int marker_corner;
};

void PrintTo(const TurnCase& param, std::ostream* out) {
  *out << param.name;
}

class Turn : public ::testing::TestWithParam<TurnCase> {};

TEST_P(Turn, MovesTheTopLeftMarker) {
  const auto& param = GetParam();
  const Rendered out = render_ok(corpus::oriented_jpeg(1), with({param.operation}));
  EXPECT_EQ(out.width, param.width);
  EXPECT_EQ(out.height, param.height);
  const VImage image = load(out.bytes);
  ASSERT_EQ(image.width(), param.width);
  expect_marker_only_at(image, param.marker_corner);
}

INSTANTIATE_TEST_SUITE_P(RotateAndFlip, Turn,
                         ::testing::Values(TurnCase{"Rotate90", Rotate{90}, 400, 600, 1},
                                           TurnCase{"Rotate180", Rotate{180}, 600, 400, 2},
                                           TurnCase{"Rotate270", Rotate{270}, 400, 600, 3},
                                           TurnCase{"FlipHorizontal", Flip{true}, 600, 400, 1},
                                           TurnCase{"FlipVertical", Flip{false}, 600, 400, 3}),
                         [](const auto& instance) { return std::string(instance.param.name); });

TEST(Operations, RunInTheOrderListed) {
  const std::string upright = corpus::oriented_jpeg(1);  // 600x400
  const Rendered rotate_then_crop =
      render_ok(upright, with({Rotate{90}, Crop{400, 100, Gravity::north}}));
  EXPECT_EQ(rotate_then_crop.width, 400);
  EXPECT_EQ(rotate_then_crop.height, 100);
  const Rendered crop_then_rotate =
      render_ok(upright, with({Crop{400, 100, Gravity::north}, Rotate{90}}));
  EXPECT_EQ(crop_then_rotate.width, 100);
  EXPECT_EQ(crop_then_rotate.height, 400);
}

TEST(Operations, RunOnThePictureAlreadyTurnedUprightByExif) {
  // Orientation 6 displays 400x600 with the marker top-left; a further
  // quarter turn clockwise gives 600x400 with the marker top-right.
  const Rendered out = render_ok(corpus::oriented_jpeg(6), with({Rotate{90}}));
  EXPECT_EQ(out.width, 600);
  EXPECT_EQ(out.height, 400);
  expect_marker_only_at(load(out.bytes), 1);
}

// ---------------------------------------------------------------------------
// Sharpen and blur.

// 400x200 grey vertical stripes, 40 px wide, 40 and 210, with soft edges
// (Gaussian sigma 1): steepest step about 77 levels per pixel.
const std::string& soft_stripes_png() {
  static const std::string png = [] {
    VImage x = VImage::xyz(400, 200)[0];
    VImage stripes = ((x / 40).cast(VIPS_FORMAT_INT) & 1).ifthenelse(210, 40);
    VImage rgb = stripes.bandjoin(stripes)
                     .bandjoin(stripes)
                     .cast(VIPS_FORMAT_UCHAR)
                     .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
    return save(rgb.gaussblur(1.0), ".png");
  }();
  return png;
}

TEST(SharpenOperation, SteepensSoftEdgesAndRaisesContrast) {
  const VImage input = load(soft_stripes_png());
  const Rendered out = render_ok(soft_stripes_png(), with({Sharpen{1.0}}, "png"));
  ASSERT_EQ(out.width, 400);
  const VImage sharpened = load(out.bytes);
  EXPECT_GT(max_step(sharpened), max_step(input) * 1.2);
  EXPECT_GT(sharpened[0].deviate(), input[0].deviate());
}

TEST(SharpenOperation, SigmaChangesTheResult) {
  const Rendered narrow = render_ok(soft_stripes_png(), with({Sharpen{0.5}}, "png"));
  const Rendered wide = render_ok(soft_stripes_png(), with({Sharpen{3.0}}, "png"));
  EXPECT_GT(std::abs(max_step(load(wide.bytes)) - max_step(load(narrow.bytes))), 10);
}

TEST(BlurOperation, FlattensEdgesAndLowersContrast) {
  const VImage input = load(soft_stripes_png());
  const Rendered out = render_ok(soft_stripes_png(), with({Blur{2.0}}, "png"));
  ASSERT_EQ(out.width, 400);
  const VImage blurred = load(out.bytes);
  EXPECT_LT(max_step(blurred), max_step(input) * 0.7);
  EXPECT_LT(blurred[0].deviate(), input[0].deviate());
}

TEST(BlurOperation, WiderSigmaBlursMore) {
  const Rendered slight = render_ok(soft_stripes_png(), with({Blur{1.0}}, "png"));
  const Rendered strong = render_ok(soft_stripes_png(), with({Blur{4.0}}, "png"));
  EXPECT_LT(max_step(load(strong.bytes)), max_step(load(slight.bytes)) * 0.5);
}

// ---------------------------------------------------------------------------
// Recipe switches: autorotate, to_srgb, background.

TEST(Autorotate, OffKeepsTheStoredOrientation) {
  Recipe recipe = with({});
  recipe.autorotate = false;
  const Rendered out = render_ok(corpus::oriented_jpeg(6), recipe);
  EXPECT_EQ(out.width, corpus::kOrientedWidth);
  EXPECT_EQ(out.height, corpus::kOrientedHeight);
  expect_marker_only_at(load(out.bytes), corpus::stored_marker_corner(6));
}

TEST(Autorotate, OnDropsTheTagEvenWhenMetadataIsKept) {
  Recipe recipe = with({});
  recipe.metadata = MetadataPolicy::keep;
  const Rendered out = render_ok(corpus::oriented_jpeg(6), recipe);
  EXPECT_EQ(out.width, corpus::kOrientedHeight);
  const VImage image = load(out.bytes);
  if (image.get_typeof("orientation") != 0) {
    EXPECT_EQ(image.get_int("orientation"), 1) << "a viewer would turn it a second time";
  }
  expect_marker_only_at(image, 0);
}

TEST(ToSrgb, OnConvertsAdobeRgbThroughItsProfile) {
  const std::string input = corpus::adobe_rgb_jpeg();
  const Rendered out = render_ok(input, with({}, "png"));
  const VImage image = load(out.bytes);
  EXPECT_LT(mean_de00(image, colour_managed(input)), 1.5);
  EXPECT_GT(mean_de00(image, not_colour_managed(input)), 1.5);
}

TEST(ToSrgb, OffLeavesTheStoredSamplesAlone) {
  const std::string input = corpus::adobe_rgb_jpeg();
  Recipe recipe = with({}, "png");
  recipe.to_srgb = false;
  const Rendered out = render_ok(input, recipe);
  const VImage image = load(out.bytes);
  EXPECT_LT(mean_de00(image, not_colour_managed(input)), 1.5);
  EXPECT_GT(mean_de00(image, colour_managed(input)), 1.5);
}

TEST(Background, IsWhatAlphaIsFlattenedOnto) {
  Recipe recipe = with({}, "jpeg");
  recipe.background = {0, 0, 255};
  const Rendered out = render_ok(corpus::rgba_png_with_transparent_half(), recipe);
  const VImage image = load(out.bytes);
  expect_colour(mean_rgb(image, 20, 20, 160, 160), {0, 0, 255}, 6, "transparent half");
  expect_colour(mean_rgb(image, 220, 20, 160, 160), {255, 0, 0}, 10, "opaque half");
}

// ---------------------------------------------------------------------------
// Encoders.

struct FormatCase {
  const char* format;
  const char* loader;
  const char* heif_compression;  // "" unless HEIF
  const char* content_type;
};

void PrintTo(const FormatCase& param, std::ostream* out) {
  *out << param.format;
}

class EncoderFormat : public ::testing::TestWithParam<FormatCase> {};

TEST_P(EncoderFormat, WritesThatFormat) {
  const auto& param = GetParam();
  const Rendered out = render_ok(corpus::photo_jpeg(), with({Resize{160, 160}}, param.format));
  EXPECT_EQ(out.format, param.format);
  EXPECT_EQ(out.content_type, param.content_type);
  EXPECT_EQ(out.width, 160);
  EXPECT_EQ(out.height, 100);
  const VImage image = load(out.bytes);
  EXPECT_EQ(std::string(image.get_string("vips-loader")), param.loader);
  if (param.heif_compression[0] != '\0') {
    EXPECT_EQ(std::string(image.get_string("heif-compression")), param.heif_compression);
  }
  EXPECT_EQ(image.width(), 160);
  EXPECT_EQ(image.height(), 100);
}

INSTANTIATE_TEST_SUITE_P(
    EveryFormat, EncoderFormat,
    ::testing::Values(FormatCase{"jpeg", "jpegload_buffer", "", "image/jpeg"},
                      FormatCase{"png", "pngload_buffer", "", "image/png"},
                      FormatCase{"webp", "webpload_buffer", "", "image/webp"},
                      FormatCase{"avif", "heifload_buffer", "av1", "image/avif"},
                      FormatCase{"heif", "heifload_buffer", "hevc", "image/heif"},
                      FormatCase{"gif", "gifload_buffer", "", "image/gif"},
                      FormatCase{"tiff", "tiffload_buffer", "", "image/tiff"}),
    [](const auto& instance) { return std::string(instance.param.format); });

struct KeepCase {
  const char* name;
  std::string (*make)();
  const char* format;
  const char* loader;
};

void PrintTo(const KeepCase& param, std::ostream* out) {
  *out << param.name;
}

class EncoderKeep : public ::testing::TestWithParam<KeepCase> {};

TEST_P(EncoderKeep, WritesTheInputFormat) {
  const auto& param = GetParam();
  const Rendered out = render_ok(param.make(), with({Resize{160, 160}}, "keep"));
  EXPECT_EQ(out.format, param.format);
  EXPECT_EQ(std::string(load(out.bytes).get_string("vips-loader")), param.loader);
}

INSTANTIATE_TEST_SUITE_P(
    EveryInputFormat, EncoderKeep,
    ::testing::Values(KeepCase{"Jpeg", corpus::photo_jpeg, "jpeg", "jpegload_buffer"},
                      KeepCase{"Png", corpus::palette_png, "png", "pngload_buffer"},
                      KeepCase{"Webp", corpus::webp, "webp", "webpload_buffer"},
                      KeepCase{"Avif", corpus::avif, "avif", "heifload_buffer"},
                      KeepCase{"Heic", corpus::heic, "heif", "heifload_buffer"},
                      KeepCase{"Tiff", corpus::tiff, "tiff", "tiffload_buffer"},
                      KeepCase{"Gif", [] { return corpus::animated("gif", 2); }, "gif",
                               "gifload_buffer"}),
    [](const auto& instance) { return std::string(instance.param.name); });

class EncoderQuality : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderQuality, LowerQualityGivesFewerBytes) {
  Recipe low = with({}, GetParam());
  low.encoder.quality = 30;
  Recipe high = with({}, GetParam());
  high.encoder.quality = 90;
  const Rendered small = render_ok(corpus::photo_jpeg(), low);
  const Rendered large = render_ok(corpus::photo_jpeg(), high);
  EXPECT_LT(small.bytes.size() * 3 / 2, large.bytes.size())
      << small.bytes.size() << " vs " << large.bytes.size();
}

INSTANTIATE_TEST_SUITE_P(LossyFormats, EncoderQuality,
                         ::testing::Values("jpeg", "webp", "avif", "heif"),
                         [](const auto& instance) { return instance.param; });

TEST(EncoderQuality, ZeroMeansTheDocumentedDefaultOfJpegAndWebp) {
  for (const auto& [format, quality] : std::map<std::string, int>{{"jpeg", 85}, {"webp", 80}}) {
    Recipe fallback = with({}, format);
    Recipe explicit_default = with({}, format);
    explicit_default.encoder.quality = quality;
    const std::string a = render_ok(corpus::photo_jpeg(), fallback).bytes;
    const std::string b = render_ok(corpus::photo_jpeg(), explicit_default).bytes;
    EXPECT_TRUE(a == b) << format << ": " << a.size() << " vs " << b.size() << " bytes";
  }
}

TEST(EncoderProgressive, WritesAMultiScanJpeg) {
  Recipe recipe = with({}, "jpeg");
  recipe.encoder.progressive = true;
  const VImage progressive = load(render_ok(corpus::photo_jpeg(), recipe).bytes);
  EXPECT_EQ(progressive.get_int("jpeg-multiscan"), 1);
  recipe.encoder.progressive = false;
  const VImage baseline = load(render_ok(corpus::photo_jpeg(), recipe).bytes);
  EXPECT_EQ(baseline.get_int("jpeg-multiscan"), 0);
}

std::string chroma_of(const std::string& chroma, int quality) {
  Recipe recipe = with({}, "jpeg");
  recipe.encoder.chroma = chroma;
  recipe.encoder.quality = quality;
  const VImage image = load(render_ok(corpus::photo_jpeg(), recipe).bytes);
  return image.get_string("jpeg-chroma-subsample");
}

TEST(EncoderChroma, FourFourFourKeepsFullChromaEvenAtLowQuality) {
  EXPECT_EQ(chroma_of("444", 70), "4:4:4");
}

TEST(EncoderChroma, FourTwoZeroSubsamplesEvenAtHighQuality) {
  EXPECT_EQ(chroma_of("420", 95), "4:2:0");
}

TEST(EncoderChroma, AutoSubsamplesBelowQuality90Only) {
  EXPECT_EQ(chroma_of("auto", 70), "4:2:0");
  EXPECT_EQ(chroma_of("auto", 95), "4:4:4");
}

TEST(EncoderJpeg, AcceptsTrellisAndOptimizeScansThatLibjpegTurboIgnores) {
  Recipe recipe = with({}, "jpeg");
  recipe.encoder.trellis = true;
  recipe.encoder.optimize_scans = true;
  recipe.encoder.progressive = true;
  const Rendered out = render_ok(corpus::photo_jpeg(), recipe);
  EXPECT_EQ(decode(out.bytes).loader, "jpegload_buffer");
}

TEST(EncoderPng, CompressionChangesTheBytesButNotThePixels) {
  const std::string input = save(load(corpus::photo_jpeg()), ".png");
  Recipe none = with({}, "png");
  none.encoder.compression = 0;
  Recipe most = with({}, "png");
  most.encoder.compression = 9;
  const Rendered stored = render_ok(input, none);
  const Rendered deflated = render_ok(input, most);
  EXPECT_GT(stored.bytes.size(), deflated.bytes.size() * 5 / 4);
  EXPECT_EQ((load(stored.bytes) - load(deflated.bytes)).abs().max(), 0);
  EXPECT_EQ((load(stored.bytes) - load(input)).abs().max(), 0) << "lossless";
}

TEST(EncoderPng, PaletteWritesAnIndexedPng) {
  Recipe recipe = with({}, "png");
  recipe.encoder.palette = true;
  const VImage indexed = load(render_ok(corpus::photo_jpeg(), recipe).bytes);
  EXPECT_NE(indexed.get_typeof("palette-bit-depth"), 0u) << "indexed colour";
  recipe.encoder.palette = false;
  const VImage truecolour = load(render_ok(corpus::photo_jpeg(), recipe).bytes);
  EXPECT_EQ(truecolour.get_typeof("palette-bit-depth"), 0u) << "truecolour";
}

TEST(EncoderWebp, LosslessRoundTripsEveryPixel) {
  const std::string input = save(load(corpus::photo_jpeg()), ".png");
  Recipe recipe = with({}, "webp");
  recipe.encoder.lossless = true;
  EXPECT_EQ((load(render_ok(input, recipe).bytes) - load(input)).abs().max(), 0);
  recipe.encoder.lossless = false;
  EXPECT_GT((load(render_ok(input, recipe).bytes) - load(input)).abs().max(), 0) << "lossy";
}

class EncoderEffort : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderEffort, ChangesTheEncoding) {
  Recipe quick = with({Resize{320, 320}}, GetParam());
  quick.encoder.effort = 0;
  Recipe thorough = with({Resize{320, 320}}, GetParam());
  thorough.encoder.effort = GetParam() == "webp" ? 6 : 9;
  const Rendered a = render_ok(corpus::photo_jpeg(), quick);
  const Rendered b = render_ok(corpus::photo_jpeg(), thorough);
  EXPECT_NE(a.bytes.size(), b.bytes.size()) << "effort 0 and the highest effort";
}

INSTANTIATE_TEST_SUITE_P(WebpAndAvif, EncoderEffort, ::testing::Values("webp", "avif"),
                         [](const auto& instance) { return instance.param; });

TEST(EncoderEffortHeif, IsAcceptedAlthoughX265IgnoresIt) {
  // libvips 8.14 passes effort to libheif as "speed", which only the AV1
  // encoders understand: HEVC output is the same at every effort.
  Recipe recipe = with({Resize{320, 320}}, "heif");
  recipe.encoder.effort = 9;
  const Rendered out = render_ok(corpus::photo_jpeg(), recipe);
  EXPECT_EQ(decode(out.bytes).loader, "heifload_buffer");
}

// The Compression tag (259) of the first IFD, read from the bytes.
int tiff_compression_tag(const std::string& tiff) {
  const bool little = tiff.compare(0, 2, "II") == 0;
  auto byte = [&](std::size_t at) {
    return static_cast<unsigned>(static_cast<unsigned char>(tiff.at(at)));
  };
  auto u16 = [&](std::size_t at) {
    return little ? byte(at) | (byte(at + 1) << 8) : (byte(at) << 8) | byte(at + 1);
  };
  auto u32 = [&](std::size_t at) {
    return little ? u16(at) | (u16(at + 2) << 16) : (u16(at) << 16) | u16(at + 2);
  };
  const std::size_t ifd = u32(4);
  const unsigned entries = u16(ifd);
  for (unsigned i = 0; i < entries; ++i) {
    const std::size_t entry = ifd + 2 + 12 * i;
    if (u16(entry) == 259) return static_cast<int>(u16(entry + 8));
  }
  return -1;
}

struct TiffCase {
  const char* compression;
  std::vector<int> tags;  // TIFF 6.0: 1 none, 5 LZW, 7 JPEG, 8 / 32946 deflate
};

void PrintTo(const TiffCase& param, std::ostream* out) {
  *out << param.compression;
}

class EncoderTiff : public ::testing::TestWithParam<TiffCase> {};

TEST_P(EncoderTiff, WritesTheCompressionTag) {
  Recipe recipe = with({Resize{160, 160}}, "tiff");
  recipe.encoder.tiff_compression = GetParam().compression;
  const Rendered out = render_ok(corpus::photo_jpeg(), recipe);
  ASSERT_GT(out.bytes.size(), 8u);
  const int tag = tiff_compression_tag(out.bytes);
  const auto& allowed = GetParam().tags;
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), tag), allowed.end()) << "tag " << tag;
  EXPECT_EQ(decode(out.bytes).width, 160);
}

INSTANTIATE_TEST_SUITE_P(EveryCompression, EncoderTiff,
                         ::testing::Values(TiffCase{"none", {1}}, TiffCase{"deflate", {8, 32946}},
                                           TiffCase{"lzw", {5}}, TiffCase{"jpeg", {7}}),
                         [](const auto& instance) {
                           return std::string(instance.param.compression);
                         });

// ---------------------------------------------------------------------------
// Metadata.

const std::string& jpeg_with_exif() {
  static const std::string jpeg = [] {
    VImage image = load(corpus::photo_jpeg()).copy();
    image.set("exif-ifd0-Copyright", "(c) 2024 Jane Doe");
    image.set("exif-ifd0-Artist", "Jane Doe");
    image.set("exif-ifd0-Make", "AcmeCam");
    image.set("exif-ifd0-Model", "X1000");
    return save(image, ".jpg[Q=92]");
  }();
  return jpeg;
}

bool has_field(const VImage& image, const char* name) {
  return image.get_typeof(name) != 0;
}

std::string field_text(const VImage& image, const char* name) {
  char* text = nullptr;
  if (vips_image_get_as_string(image.get_image(), name, &text) != 0) return {};
  std::string out(text);
  g_free(text);
  return out;
}

TEST(Metadata, TheInputReallyCarriesTheseExifTags) {
  const VImage input = load(jpeg_with_exif());
  EXPECT_NE(field_text(input, "exif-ifd0-Copyright").find("Jane Doe"), std::string::npos);
  EXPECT_NE(field_text(input, "exif-ifd0-Make").find("AcmeCam"), std::string::npos);
}

TEST(Metadata, StripRemovesAllExif) {
  Recipe recipe = with({Resize{320, 320}}, "jpeg");
  recipe.metadata = MetadataPolicy::strip;
  const VImage out = load(render_ok(jpeg_with_exif(), recipe).bytes);
  EXPECT_FALSE(has_field(out, "exif-data"));
  EXPECT_FALSE(has_field(out, "exif-ifd0-Copyright"));
}

TEST(Metadata, KeepCarriesTheExifOver) {
  Recipe recipe = with({Resize{320, 320}}, "jpeg");
  recipe.metadata = MetadataPolicy::keep;
  const VImage out = load(render_ok(jpeg_with_exif(), recipe).bytes);
  EXPECT_NE(field_text(out, "exif-ifd0-Make").find("AcmeCam"), std::string::npos);
  EXPECT_NE(field_text(out, "exif-ifd0-Model").find("X1000"), std::string::npos);
  EXPECT_NE(field_text(out, "exif-ifd0-Copyright").find("Jane Doe"), std::string::npos);
}

TEST(Metadata, KeepCopyrightKeepsOnlyTheCopyrightNotice) {
  Recipe recipe = with({Resize{320, 320}}, "jpeg");
  recipe.metadata = MetadataPolicy::keep_copyright;
  const VImage out = load(render_ok(jpeg_with_exif(), recipe).bytes);
  EXPECT_NE(field_text(out, "exif-ifd0-Copyright").find("(c) 2024 Jane Doe"), std::string::npos);
  EXPECT_FALSE(has_field(out, "exif-ifd0-Make")) << field_text(out, "exif-ifd0-Make");
  EXPECT_FALSE(has_field(out, "exif-ifd0-Model")) << field_text(out, "exif-ifd0-Model");
}

// ---------------------------------------------------------------------------
// Limits.

TEST(LimitsMaxInputBytes, RejectsOneByteOverAndAcceptsTheExactSize) {
  const std::string input = corpus::photo_jpeg();
  Limits limits;
  limits.max_input_bytes = input.size() - 1;
  auto over = render(input, with({}), limits);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().reason, Reason::too_many_bytes) << describe(over.error());
  limits.max_input_bytes = input.size();
  EXPECT_TRUE(render(input, with({}), limits).ok());
}

TEST(LimitsMaxInputPixels, RejectsOnePixelOverAndAcceptsTheExactCount) {
  const std::string input = corpus::photo_jpeg();
  Limits limits;
  limits.max_input_pixels = std::uint64_t{corpus::kPhotoWidth} * corpus::kPhotoHeight - 1;
  auto over = render(input, with({}), limits);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().reason, Reason::too_many_pixels) << describe(over.error());
  limits.max_input_pixels += 1;
  EXPECT_TRUE(render(input, with({}), limits).ok());
}

TEST(LimitsMaxInputPixels, CountsEveryFrameOfAnAnimation) {
  Recipe recipe = with({});
  recipe.animation.all_frames = true;
  Limits limits;
  limits.max_input_pixels = std::uint64_t{corpus::kFrameWidth} * corpus::kFrameHeight * 3;
  auto out = render(corpus::animated("gif", 4), recipe, limits);
  ASSERT_FALSE(out.ok()) << "4 frames exceed the pixels of 3";
  EXPECT_EQ(out.error().reason, Reason::too_many_pixels) << describe(out.error());
}

TEST(LimitsAllowedFormats, RejectsAFormatThatIsNotListed) {
  Limits limits;
  limits.allowed_formats = {"png"};
  auto jpeg = render(corpus::photo_jpeg(), with({}), limits);
  ASSERT_FALSE(jpeg.ok());
  EXPECT_EQ(jpeg.error().reason, Reason::format_not_allowed) << describe(jpeg.error());
  EXPECT_TRUE(render(corpus::palette_png(), with({}), limits).ok());
}

struct FailOnCase {
  const char* name;
  FailOn fail_on;
};

void PrintTo(const FailOnCase& param, std::ostream* out) {
  *out << param.name;
}

class LimitsFailOn : public ::testing::TestWithParam<FailOnCase> {};

TEST_P(LimitsFailOn, RejectsATruncatedJpegUnlessNone) {
  Limits limits;
  limits.fail_on = GetParam().fail_on;
  auto out = render(corpus::truncated_jpeg(), with({}), limits);
  if (GetParam().fail_on == FailOn::none) {
    ASSERT_TRUE(out.ok()) << describe(out.error());
    EXPECT_EQ(out->width, corpus::kPhotoWidth);
  } else {
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().reason, Reason::decode_failed) << describe(out.error());
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPolicy, LimitsFailOn,
                         ::testing::Values(FailOnCase{"none", FailOn::none},
                                           FailOnCase{"truncated", FailOn::truncated},
                                           FailOnCase{"error", FailOn::error},
                                           FailOnCase{"warning", FailOn::warning}),
                         [](const auto& instance) { return std::string(instance.param.name); });

// ---------------------------------------------------------------------------
// Perceptual hash and the names in recipe.h.

TEST(PerceptualHash, IsNearlyTheSameForOnePictureAtTwoSizes) {
  const std::string large = corpus::photo_jpeg();
  const std::string small = save(load(large).resize(0.5), ".jpg[Q=80]");
  const Rendered a = render_ok(large, with({}));
  const Rendered b = render_ok(small, with({}));
  EXPECT_LE(hash_distance(a.phash, b.phash), 6) << hash_hex(a.phash) << " " << hash_hex(b.phash);
}

TEST(PerceptualHash, IsFarApartForUnrelatedPictures) {
  const Rendered a = render_ok(corpus::photo_jpeg(), with({}));
  const Rendered b = render_ok(corpus::other_photo_jpeg(), with({}));
  EXPECT_GE(hash_distance(a.phash, b.phash), 20) << hash_hex(a.phash) << " " << hash_hex(b.phash);
}

TEST(PerceptualHash, DescribesTheRenderedPictureNotTheSource) {
  const Rendered upright = render_ok(corpus::photo_jpeg(), with({}));
  const Rendered turned = render_ok(corpus::photo_jpeg(), with({Rotate{180}}));
  EXPECT_GE(hash_distance(upright.phash, turned.phash), 20);
}

// Outputs that are not 8-bit sRGB without alpha are converted before they
// are hashed; the hash must still describe the same picture. With to_srgb
// off a 16-bit source stays 16-bit to the end.
TEST(PerceptualHash, IsNearlyTheSameForDeepAndTransparentSources) {
  const VImage photo = load(corpus::photo_jpeg());
  const Rendered plain = render_ok(save(photo, ".png"), with({}, "png"));
  const VImage deep = (photo.cast(VIPS_FORMAT_USHORT) * 257)
                          .cast(VIPS_FORMAT_USHORT)
                          .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_RGB16));
  const VImage opaque_alpha = deep.extract_band(0) * 0 + 65535;
  const VImage with_alpha = deep.bandjoin(opaque_alpha.cast(VIPS_FORMAT_USHORT));
  for (const bool to_srgb : {true, false}) {
    for (const VImage& variant : {deep, with_alpha}) {
      Recipe recipe = with({}, "png");
      recipe.to_srgb = to_srgb;
      const Rendered out = render_ok(save(variant, ".png"), recipe);
      EXPECT_NE(out.phash, 0u);
      EXPECT_LE(hash_distance(plain.phash, out.phash), 6)
          << hash_hex(plain.phash) << " " << hash_hex(out.phash) << " bands " << variant.bands()
          << " to_srgb " << to_srgb;
    }
  }
}

// A picture that brightens to the right has every bit 0. Only the first
// page counts: the second darkens to the right (every bit 1). A multi-page
// TIFF renders to 8-bit sRGB (hashed as it is); an animated WebP loads with
// alpha (hashed after conversion).
TEST(PerceptualHash, DescribesTheFirstPageOfAnAnimation) {
  constexpr int kWidth = 90;
  constexpr int kHeight = 300;  // over the 256 rows the converted path shrinks to
  const VImage x = VImage::xyz(kWidth, kHeight)[0];
  const VImage brightening = (x * 2 + 20).cast(VIPS_FORMAT_UCHAR);
  const VImage darkening = (x * -2 + 200).cast(VIPS_FORMAT_UCHAR);
  const VImage grey = brightening.join(darkening, VIPS_DIRECTION_VERTICAL);
  const VImage pages = VImage::bandjoin({grey, grey, grey})
                           .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  for (const std::string suffix : {".tif", ".webp[lossless]"}) {
    VImage animation = pages.copy();
    animation.set("page-height", kHeight);
    Recipe recipe = with({});
    recipe.animation.all_frames = true;
    const Rendered out = render_ok(save(animation, suffix), recipe);
    EXPECT_EQ(out.frames, 2) << suffix;
    EXPECT_EQ(out.phash, 0u) << hash_hex(out.phash) << " " << suffix;
  }
}

// Converted outputs are shrunk before hashing, each axis on its own (with
// one scale for both, libvips keeps one pixel of a thin picture's short
// side); thin pictures must still render.
TEST(PerceptualHash, HashesVeryThinTransparentOutputs) {
  for (const auto& [width, height] : {std::pair{1024, 1}, std::pair{1, 2000}, std::pair{4000, 3}}) {
    const VImage ramp = (VImage::xyz(width, height)[0] % 256).cast(VIPS_FORMAT_UCHAR);
    const VImage rgba =
        VImage::bandjoin({ramp, ramp, ramp, (ramp * 0 + 200).cast(VIPS_FORMAT_UCHAR)})
            .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
    const Rendered out = render_ok(save(rgba, ".png"), with({}, "png"));
    EXPECT_EQ(out.width, width);
    EXPECT_EQ(out.height, height);
  }
}

TEST(PerceptualHash, PrintsAsSixteenLowerCaseHexDigits) {
  EXPECT_EQ(hash_hex(0x0123456789abcdefull), "0123456789abcdef");
  EXPECT_EQ(hash_hex(0), "0000000000000000");
  EXPECT_EQ(hash_distance(0, ~std::uint64_t{0}), 64);
  EXPECT_EQ(hash_distance(0x0f, 0x0e), 1);
}

TEST(RecipeNames, NameEveryGravity) {
  const std::map<Gravity, std::string> names = {
      {Gravity::centre, "centre"},       {Gravity::north, "north"},
      {Gravity::northeast, "northeast"}, {Gravity::east, "east"},
      {Gravity::southeast, "southeast"}, {Gravity::south, "south"},
      {Gravity::southwest, "southwest"}, {Gravity::west, "west"},
      {Gravity::northwest, "northwest"}, {Gravity::attention, "attention"},
      {Gravity::entropy, "entropy"}};
  for (const auto& [gravity, name] : names) EXPECT_EQ(gravity_name(gravity), name);
}

TEST(RecipeNames, KnowTheFormatsAndTheirExtensions) {
  EXPECT_STREQ(format_extension("jpeg"), "jpg");
  EXPECT_STREQ(format_extension("png"), "png");
  EXPECT_STREQ(format_extension("webp"), "webp");
  EXPECT_STREQ(format_extension("avif"), "avif");
  EXPECT_STREQ(format_extension("gif"), "gif");
  for (const char* format : {"jpeg", "png", "webp", "avif", "heif", "gif", "tiff"}) {
    EXPECT_TRUE(known_output_format(format)) << format;
    EXPECT_TRUE(known_input_format(format)) << format;
  }
  EXPECT_TRUE(known_output_format("keep"));
  EXPECT_FALSE(known_input_format("keep"));
  EXPECT_FALSE(known_output_format("bmp"));
  EXPECT_FALSE(known_input_format("svg"));
}

}  // namespace
}  // namespace imgpipe::image

namespace imgpipe::image {
namespace {

// Regression: after a shrink-on-load resize the image was still read
// sequentially, so an operation reading it bottom-up failed with
// "VipsJpeg: out of order read" on large inputs (found by the benchmark).
TEST(OperationsAfterAResize, MayReadThePixelsInAnyOrder) {
  const std::string large = testing_support::make_image(5000, 3000, ".jpg");
  for (const Operation& after :
       {Operation{Rotate{180}}, Operation{Flip{false}}, Operation{Rotate{90}},
        Operation{Crop{200, 200, Gravity::attention}}}) {
    Recipe recipe;
    recipe.operations = {Resize{1024, 1024}, after};
    auto out = render(large, recipe, Limits{});
    ASSERT_TRUE(out.ok()) << out.error().message;
  }
}

}  // namespace
}  // namespace imgpipe::image
