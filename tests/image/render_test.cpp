// Golden tests of image::render() over the awkward corpus
// (tests/support/awkward_corpus.h): dimensions, orientation, colour space,
// colour difference to a reference rendering made here with libvips
// directly, animation frames, and the reason code of every rejected file.
#include "image/render.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <ostream>
#include <string>
#include <vips/vips8>

#include "support/awkward_corpus.h"
#include "support/test_images.h"

namespace imgpipe::image {
namespace {

namespace corpus = testing_support::corpus;
using testing_support::decode;
using testing_support::make_image;
using testing_support::reencode;
using testing_support::golden::colour_managed;
using testing_support::golden::load;
using testing_support::golden::mean_de00;
using testing_support::golden::mean_rgb;
using testing_support::golden::not_colour_managed;
using vips::VImage;

// Mean CIEDE2000 (at 64x64) that a correct rendering stays under. JPEG at
// the default quality plus a different resampling kernel stay below 1; an
// untagged sRGB picture sent through thumbnail's export_profile without an
// import_profile (libvips' D65 Lab read as the profile's D50) is about 3.
constexpr double kColourBound = 1.5;
// CMYK: libvips' thumbnail and icc_transform paths differ by up to ~1.8.
constexpr double kCmykColourBound = 3.0;

Recipe fit_in(int width, int height, const std::string& format = "keep") {
  Recipe recipe;
  recipe.operations.push_back(Resize{width, height, ResizeMode::fit, Gravity::centre, false});
  recipe.encoder.format = format;
  return recipe;
}

Recipe as_is(const std::string& format = "keep") {
  Recipe recipe;
  recipe.encoder.format = format;
  return recipe;
}

std::string describe(const Error& error) {
  return std::string(reason_name(error.reason)) + ": " + error.message;
}

// The mean of band 0 over a square of `size` at one corner of the image:
// 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left; `inset` pixels in.
double corner_brightness(const VImage& image, int corner, int size, int inset = 8) {
  const int x = (corner == 1 || corner == 2) ? image.width() - size - inset : inset;
  const int y = (corner == 2 || corner == 3) ? image.height() - size - inset : inset;
  return mean_rgb(image, x, y, size, size)[0];
}

bool has_orientation_other_than_1(const VImage& image) {
  return image.get_typeof("orientation") != 0 && image.get_int("orientation") != 1;
}

// ---------------------------------------------------------------------------
// The corpus itself: the awkward files are what they claim to be.

TEST(AwkwardCorpus, PngBombIsAValidPngWhoseIdatInflatesToEveryPixel) {
  const std::string bomb = corpus::png_bomb();
  EXPECT_LT(bomb.size(), 8u << 20) << "a few MB on disk";
  const VImage header = VImage::new_from_buffer(bomb.data(), bomb.size(), "");
  EXPECT_EQ(header.width(), corpus::kBombSide);
  EXPECT_EQ(header.height(), corpus::kBombSide);
  EXPECT_EQ(header.bands(), 3);

  // Walk the chunks and inflate the IDAT stream, counting the bytes.
  z_stream stream{};
  ASSERT_EQ(inflateInit(&stream), Z_OK);
  std::vector<unsigned char> sink(1 << 20);
  std::uint64_t inflated = 0;
  int result = Z_OK;
  std::size_t at = 8;
  while (at + 12 <= bomb.size() && result != Z_STREAM_END) {
    const auto* p = reinterpret_cast<const unsigned char*>(bomb.data() + at);
    const std::size_t length = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                               (std::size_t{p[2]} << 8) | std::size_t{p[3]};
    if (std::memcmp(p + 4, "IDAT", 4) == 0) {
      stream.next_in = const_cast<unsigned char*>(p + 8);  // NOLINT: zlib's API is not const
      stream.avail_in = static_cast<uInt>(length);
      while (stream.avail_in > 0 && result != Z_STREAM_END) {
        stream.next_out = sink.data();
        stream.avail_out = static_cast<uInt>(sink.size());
        result = inflate(&stream, Z_NO_FLUSH);
        ASSERT_TRUE(result == Z_OK || result == Z_STREAM_END) << "inflate: " << result;
        inflated += sink.size() - stream.avail_out;
      }
    }
    at += 12 + length;
  }
  inflateEnd(&stream);
  EXPECT_EQ(result, Z_STREAM_END);
  const std::uint64_t side = corpus::kBombSide;
  EXPECT_EQ(inflated, side * (1 + side * 3)) << "a filter byte and 30000 RGB pixels per row";
}

TEST(AwkwardCorpus, FakeHeaderJpegClaims65000By65000) {
  const std::string jpeg = corpus::jpeg_claiming_65000();
  const VImage header = VImage::new_from_buffer(jpeg.data(), jpeg.size(), "");
  EXPECT_EQ(header.width(), corpus::kFakeSide);
  EXPECT_EQ(header.height(), corpus::kFakeSide);
  EXPECT_LT(jpeg.size(), 64u << 10);
}

TEST(AwkwardCorpus, OrientedJpegsCarryTheirExifTagAndMarker) {
  for (int orientation = 1; orientation <= 8; ++orientation) {
    const VImage image = load(corpus::oriented_jpeg(orientation));
    EXPECT_EQ(image.get_int("orientation"), orientation);
    const int marked = corpus::stored_marker_corner(orientation);
    for (int corner = 0; corner < 4; ++corner) {
      const double brightness = corner_brightness(image, corner, 30);
      if (corner == marked) {
        EXPECT_GT(brightness, 230) << "orientation " << orientation << " corner " << corner;
      } else {
        EXPECT_LT(brightness, 90) << "orientation " << orientation << " corner " << corner;
      }
    }
  }
}

TEST(AwkwardCorpus, ColourChecksTellTheDeliberateMistakeFromTheReference) {
  // The colour tests below rely on these gaps: without colour management
  // each colour-managed file lands far outside the bound.
  EXPECT_GT(mean_de00(not_colour_managed(corpus::adobe_rgb_jpeg()),
                      colour_managed(corpus::adobe_rgb_jpeg())),
            2 * kColourBound);
  EXPECT_GT(mean_de00(not_colour_managed(corpus::cmyk_jpeg_without_profile()),
                      colour_managed(corpus::cmyk_jpeg_without_profile())),
            10 * kCmykColourBound);
  EXPECT_GT(mean_de00(not_colour_managed(corpus::cmyk_jpeg_with_profile()),
                      colour_managed(corpus::cmyk_jpeg_with_profile())),
            10 * kCmykColourBound);
  EXPECT_GT(mean_de00(not_colour_managed(corpus::png_16bit()), colour_managed(corpus::png_16bit())),
            10 * kColourBound);
}

// ---------------------------------------------------------------------------
// EXIF orientation 1-8.

class ExifOrientation : public ::testing::TestWithParam<int> {};

TEST_P(ExifOrientation, EndsWithTheMarkerInTheDisplayedTopLeftCorner) {
  const int orientation = GetParam();
  auto out = render(corpus::oriented_jpeg(orientation), as_is(), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  const bool swapped = orientation >= 5;
  const int width = swapped ? corpus::kOrientedHeight : corpus::kOrientedWidth;
  const int height = swapped ? corpus::kOrientedWidth : corpus::kOrientedHeight;
  EXPECT_EQ(out->width, width);
  EXPECT_EQ(out->height, height);
  EXPECT_EQ(out->source.width, corpus::kOrientedWidth) << "source size is as stored";
  EXPECT_EQ(out->source.height, corpus::kOrientedHeight);

  const VImage image = load(out->bytes);
  ASSERT_EQ(image.width(), width);
  ASSERT_EQ(image.height(), height);
  EXPECT_FALSE(has_orientation_other_than_1(image)) << "the tag must not rotate it twice";
  EXPECT_GT(corner_brightness(image, 0, 30), 200) << "marker top-left";
  EXPECT_LT(corner_brightness(image, 1, 30), 110) << "top-right dark";
  EXPECT_LT(corner_brightness(image, 2, 30), 110) << "bottom-right dark";
  EXPECT_LT(corner_brightness(image, 3, 30), 110) << "bottom-left dark";
}

TEST_P(ExifOrientation, KeepsTheMarkerTopLeftAfterAResize) {
  const int orientation = GetParam();
  auto out = render(corpus::oriented_jpeg(orientation), fit_in(300, 300), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  const bool swapped = orientation >= 5;
  EXPECT_EQ(out->width, swapped ? 200 : 300);
  EXPECT_EQ(out->height, swapped ? 300 : 200);
  const VImage image = load(out->bytes);
  EXPECT_GT(corner_brightness(image, 0, 12, 4), 200) << "marker top-left";
  EXPECT_LT(corner_brightness(image, 2, 12, 4), 110) << "bottom-right dark";
}

INSTANTIATE_TEST_SUITE_P(AllEight, ExifOrientation, ::testing::Range(1, 9),
                         [](const auto& instance) {
                           return "Orientation" + std::to_string(instance.param);
                         });

// ---------------------------------------------------------------------------
// Colour: CMYK, Adobe RGB, 16-bit, palette, grayscale.

struct ColourCase {
  const char* name;
  std::string (*make)();
  double bound;
  const char* output_loader;
  bool may_keep_16_bits;  // PNG can carry 16-bit sRGB ("rgb16")
};

void PrintTo(const ColourCase& param, std::ostream* out) {
  *out << param.name;
}

class ColourManaged : public ::testing::TestWithParam<ColourCase> {};

TEST_P(ColourManaged, ComesOutAsSrgbCloseToTheReferenceRendering) {
  const ColourCase& param = GetParam();
  const std::string input = param.make();
  auto out = render(input, fit_in(320, 320), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(out->width, 320);
  EXPECT_EQ(out->height, 200);
  const auto decoded = decode(out->bytes);
  EXPECT_EQ(decoded.loader, param.output_loader);
  EXPECT_EQ(decoded.bands, 3) << "no CMYK, no alpha";
  EXPECT_TRUE(decoded.interpretation == "srgb" ||
              (param.may_keep_16_bits && decoded.interpretation == "rgb16"))
      << decoded.interpretation;

  const VImage output = load(out->bytes);
  const VImage reference = colour_managed(input);
  const double difference = mean_de00(output, reference);
  EXPECT_LT(difference, param.bound) << "mean dE00 to the colour-managed reference";
  EXPECT_GT(mean_de00(output, not_colour_managed(input)), param.bound)
      << "the output must not equal the stored samples read as sRGB";
}

TEST_P(ColourManaged, CarriesNoProfileThatContradictsItsSrgbPixels) {
  const ColourCase& param = GetParam();
  auto out = render(param.make(), fit_in(320, 320), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  const VImage output = load(out->bytes);
  if (output.get_typeof("icc-profile-data") == 0) return;  // untagged means sRGB
  // A kept profile must describe sRGB: converting through it changes nothing.
  const VImage through = output.icc_transform(
      "srgb", VImage::option()->set("embedded", true)->set("intent", VIPS_INTENT_RELATIVE));
  EXPECT_LT(mean_de00(through, output), 0.5) << "embedded profile is not sRGB";
}

INSTANTIATE_TEST_SUITE_P(
    AwkwardFiles, ColourManaged,
    ::testing::Values(
        ColourCase{"CmykJpegWithoutProfile", corpus::cmyk_jpeg_without_profile, kCmykColourBound,
                   "jpegload_buffer", false},
        ColourCase{"CmykJpegWithProfile", corpus::cmyk_jpeg_with_profile, kCmykColourBound,
                   "jpegload_buffer", false},
        ColourCase{"AdobeRgbJpeg", corpus::adobe_rgb_jpeg, kColourBound, "jpegload_buffer", false},
        ColourCase{"Png16Bit", corpus::png_16bit, kColourBound, "pngload_buffer", true}),
    [](const auto& instance) { return std::string(instance.param.name); });

TEST(RenderColour, Turns16BitPngIntoAnEightBitJpegOfTheSameColours) {
  const std::string input = corpus::png_16bit();
  auto out = render(input, fit_in(320, 320, "jpeg"), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  const VImage output = load(out->bytes);
  EXPECT_EQ(output.format(), VIPS_FORMAT_UCHAR);
  EXPECT_LT(mean_de00(output, colour_managed(input)), kColourBound);
  EXPECT_GT(mean_de00(output, not_colour_managed(input)), kColourBound)
      << "16-bit samples clipped to 8 bits";
}

struct PlainCase {
  const char* name;
  std::string (*make)();
  const char* format;         // Rendered::format, the input's format under "keep"
  const char* output_loader;  // what reads the output back
  const char* heif_compression;
};

void PrintTo(const PlainCase& param, std::ostream* out) {
  *out << param.name;
}

class PlainFormats : public ::testing::TestWithParam<PlainCase> {};

TEST_P(PlainFormats, KeepTheirFormatSizeAndColours) {
  const PlainCase& param = GetParam();
  const std::string input = param.make();
  auto out = render(input, fit_in(320, 320), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(out->source.format, param.format);
  EXPECT_EQ(out->source.width, corpus::kPhotoWidth);
  EXPECT_EQ(out->source.height, corpus::kPhotoHeight);
  EXPECT_EQ(out->source.frames, 1);
  EXPECT_EQ(out->format, param.format);
  EXPECT_EQ(out->width, 320);
  EXPECT_EQ(out->height, 200);
  EXPECT_EQ(out->frames, 1);
  const VImage output = load(out->bytes);
  EXPECT_EQ(output.width(), 320);
  EXPECT_EQ(output.height(), 200);
  EXPECT_EQ(std::string(output.get_string("vips-loader")), param.output_loader);
  if (param.heif_compression[0] != '\0') {
    EXPECT_EQ(std::string(output.get_string("heif-compression")), param.heif_compression);
  }
  EXPECT_EQ(output.bands(), 3);
  EXPECT_LT(mean_de00(output, colour_managed(input)), kColourBound);
}

INSTANTIATE_TEST_SUITE_P(
    AwkwardFiles, PlainFormats,
    ::testing::Values(PlainCase{"Photo", corpus::photo_jpeg, "jpeg", "jpegload_buffer", ""},
                      PlainCase{"ProgressiveJpeg", corpus::progressive_jpeg, "jpeg",
                                "jpegload_buffer", ""},
                      PlainCase{"PalettePng", corpus::palette_png, "png", "pngload_buffer", ""},
                      PlainCase{"Webp", corpus::webp, "webp", "webpload_buffer", ""},
                      PlainCase{"Avif", corpus::avif, "avif", "heifload_buffer", "av1"},
                      PlainCase{"Heic", corpus::heic, "heif", "heifload_buffer", "hevc"},
                      PlainCase{"Tiff", corpus::tiff, "tiff", "tiffload_buffer", ""}),
    [](const auto& instance) { return std::string(instance.param.name); });

TEST(RenderColour, ReportsAProgressiveJpegAsProgressive) {
  auto progressive = render(corpus::progressive_jpeg(), fit_in(320, 320), Limits{});
  ASSERT_TRUE(progressive.ok()) << describe(progressive.error());
  EXPECT_TRUE(progressive->source.progressive);
  auto baseline = render(corpus::photo_jpeg(), fit_in(320, 320), Limits{});
  ASSERT_TRUE(baseline.ok()) << describe(baseline.error());
  EXPECT_FALSE(baseline->source.progressive);
}

TEST(RenderColour, KeepsGrayscaleJpegAndPngGrey) {
  for (const std::string& input : {corpus::grayscale_jpeg(), corpus::grayscale_png()}) {
    auto out = render(input, fit_in(320, 320), Limits{});
    ASSERT_TRUE(out.ok()) << describe(out.error());
    EXPECT_EQ(out->width, 320);
    EXPECT_EQ(out->height, 200);
    const VImage output = load(out->bytes);
    const VImage lab = output.colourspace(VIPS_INTERPRETATION_LAB);
    EXPECT_LT(lab[1].abs().avg(), 1.0) << "no colour cast (a*)";
    EXPECT_LT(lab[2].abs().avg(), 1.0) << "no colour cast (b*)";
    EXPECT_LT(mean_de00(output, colour_managed(input)), kColourBound);
  }
}

// ---------------------------------------------------------------------------
// Alpha.

TEST(RenderAlpha, FlattensRgbaPngOntoWhiteWhenWritingJpeg) {
  auto out = render(corpus::rgba_png_with_transparent_half(), as_is("jpeg"), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  const VImage output = load(out->bytes);
  ASSERT_EQ(output.bands(), 3);
  const auto transparent = mean_rgb(output, 20, 20, 160, 160);
  for (double value : transparent) EXPECT_GT(value, 240) << "transparent area is white, not black";
  const auto red = mean_rgb(output, 220, 20, 160, 160);
  EXPECT_GT(red[0], 230);
  EXPECT_LT(red[1], 30);
  EXPECT_LT(red[2], 30);
}

TEST(RenderAlpha, KeepsTheAlphaChannelWhenWritingPng) {
  auto out = render(corpus::rgba_png_with_transparent_half(), as_is("png"), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  const VImage output = load(out->bytes);
  ASSERT_EQ(output.bands(), 4);
  EXPECT_EQ(output.extract_area(0, 0, 200, 200)[3].max(), 0) << "still fully transparent";
  EXPECT_EQ(output.extract_area(200, 0, 200, 200)[3].min(), 255) << "still opaque";
}

// ---------------------------------------------------------------------------
// PNG outputs: sizes users would expect.

// The colour type in a PNG's IHDR (byte 25): 2 truecolour, 3 palette, 6
// truecolour with alpha. Read from the bytes, not through libvips.
int png_colour_type(const std::string& png) {
  EXPECT_GT(png.size(), 26u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  return png.size() > 25 ? static_cast<unsigned char>(png[25]) : -1;
}

// Like a wallpaper drawn with few colours: diagonal bands, 120 colours.
std::string few_colour_wallpaper_png(int width, int height) {
  VImage xy = VImage::xyz(width, height);
  VImage band = ((xy[0] + xy[1]) / 40).cast(VIPS_FORMAT_INT) % 120;
  VImage rgb = (band * 2).bandjoin(255 - band * 2).bandjoin(band + 60);
  return testing_support::golden::save(
      rgb.cast(VIPS_FORMAT_UCHAR)
          .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB)),
      ".png");
}

TEST(RenderPng, AFewColourSourceGetsAPaletteAndIsNeverLargerThanItsSource) {
  const std::string source = few_colour_wallpaper_png(1600, 1200);
  ASSERT_EQ(png_colour_type(source), 2) << "the source is truecolour";
  auto out = render(source, fit_in(1024, 1024), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(out->format, "png");
  EXPECT_EQ(out->width, 1024);
  EXPECT_EQ(out->height, 768);
  EXPECT_EQ(png_colour_type(out->bytes), 3) << "written with a palette";
  EXPECT_LT(out->bytes.size(), source.size());
  // The palette holds the source's colours.
  EXPECT_LT(mean_de00(load(out->bytes), load(source)), 1.0);
}

TEST(RenderPng, APhotoStaysTruecolourAndRowsAreFiltered) {
  const std::string photo = testing_support::golden::save(load(corpus::photo_jpeg()), ".png");
  auto out = render(photo, fit_in(320, 320), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(png_colour_type(out->bytes), 2) << "thousands of colours: no palette";
  // libvips' own pngsave without row filters, of the same pixels.
  const std::string unfiltered =
      testing_support::golden::save(load(out->bytes), ".png[filter=none]");
  EXPECT_LT(out->bytes.size(), unfiltered.size());
}

TEST(RenderPng, APaletteIsForcedBySettingItForAnySource) {
  Recipe recipe = fit_in(320, 320, "png");
  recipe.encoder.palette = true;
  auto out = render(corpus::photo_jpeg(), recipe, Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(png_colour_type(out->bytes), 3);
}

// ---------------------------------------------------------------------------
// Animation.

class Animated : public ::testing::TestWithParam<std::string> {};

void expect_frame_colour(const VImage& image, int frame, int page_height, int colour_frame) {
  const auto expected = corpus::frame_colour(colour_frame);
  const auto seen = mean_rgb(image, image.width() / 4, frame * page_height + page_height / 4,
                             image.width() / 2, page_height / 2);
  for (std::size_t band = 0; band < 3; ++band) {
    EXPECT_NEAR(seen[band], expected[band], 12) << "frame " << frame << " band " << band;
  }
}

TEST_P(Animated, GivesTheFirstFrameOnlyByDefault) {
  auto out = render(corpus::animated(GetParam(), 5), as_is(), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(out->source.frames, 5);
  EXPECT_EQ(out->source.format, GetParam());
  EXPECT_EQ(out->frames, 1);
  EXPECT_EQ(out->format, GetParam());
  EXPECT_EQ(out->width, corpus::kFrameWidth);
  EXPECT_EQ(out->height, corpus::kFrameHeight);
  const VImage all = load(out->bytes, "n=-1");
  EXPECT_EQ(all.height(), corpus::kFrameHeight) << "one frame in the file";
  expect_frame_colour(all, 0, corpus::kFrameHeight, 0);
}

TEST_P(Animated, GivesEveryFrameOnRequestKeepingThePageHeight) {
  Recipe recipe = as_is();
  recipe.animation.all_frames = true;
  auto out = render(corpus::animated(GetParam(), 5), recipe, Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(out->frames, 5);
  EXPECT_EQ(out->width, corpus::kFrameWidth);
  EXPECT_EQ(out->height, corpus::kFrameHeight) << "height of one frame";
  const VImage all = load(out->bytes, "n=-1");
  EXPECT_EQ(all.get_int("n-pages"), 5);
  EXPECT_EQ(all.get_int("page-height"), corpus::kFrameHeight);
  EXPECT_EQ(all.height(), 5 * corpus::kFrameHeight);
  for (int frame = 0; frame < 5; ++frame)
    expect_frame_colour(all, frame, corpus::kFrameHeight, frame);
}

TEST_P(Animated, ResizesEveryFrameAlike) {
  Recipe recipe = fit_in(80, 80);
  recipe.animation.all_frames = true;
  auto out = render(corpus::animated(GetParam(), 4), recipe, Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(out->frames, 4);
  EXPECT_EQ(out->width, 80);
  EXPECT_EQ(out->height, 60);
  const VImage all = load(out->bytes, "n=-1");
  EXPECT_EQ(all.get_int("n-pages"), 4);
  EXPECT_EQ(all.get_int("page-height"), 60);
  EXPECT_EQ(all.width(), 80);
  EXPECT_EQ(all.height(), 4 * 60);
  for (int frame = 0; frame < 4; ++frame) expect_frame_colour(all, frame, 60, frame);
}

TEST_P(Animated, RejectsMoreFramesThanTheLimitAsTooLarge) {
  Recipe recipe = as_is();
  recipe.animation.all_frames = true;
  Limits limits;
  limits.max_frames = 4;
  auto out = render(corpus::animated(GetParam(), 5), recipe, limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::too_many_frames) << describe(out.error());
  limits.max_frames = 5;
  auto at_limit = render(corpus::animated(GetParam(), 5), recipe, limits);
  EXPECT_TRUE(at_limit.ok()) << describe(at_limit.error());
}

INSTANTIATE_TEST_SUITE_P(GifAndWebp, Animated, ::testing::Values("gif", "webp"),
                         [](const auto& instance) { return instance.param; });

// ---------------------------------------------------------------------------
// Shrink-on-load: the fast policy (the default) lets libjpeg decode a JPEG at
// a smaller scale than libvips' thumbnail would. The photo is 640x400: into a
// 200 px box that is a shrink of 3.2, which fast decodes at 1/2 and
// conservative at full size.

Recipe with_shrink_on_load(Recipe recipe, ShrinkOnLoad policy) {
  recipe.shrink_on_load = policy;
  return recipe;
}

TEST(RenderShrinkOnLoad, FastLeavesAtLeastOneAndAHalfToTheResamplingFilter) {
  EXPECT_EQ(fast_jpeg_shrink(1.0, 4000, 3000), 1);
  EXPECT_EQ(fast_jpeg_shrink(2.99, 4000, 3000), 1);
  EXPECT_EQ(fast_jpeg_shrink(3.0, 4000, 3000), 2);
  EXPECT_EQ(fast_jpeg_shrink(3.9, 4000, 3000), 2) << "a 4000 px photo into 1024 px";
  EXPECT_EQ(fast_jpeg_shrink(5.99, 4000, 3000), 2);
  EXPECT_EQ(fast_jpeg_shrink(6.0, 4000, 3000), 4);
  EXPECT_EQ(fast_jpeg_shrink(11.99, 4000, 3000), 4);
  EXPECT_EQ(fast_jpeg_shrink(12.0, 4000, 3000), 8);
  EXPECT_EQ(fast_jpeg_shrink(1000.0, 4000, 3000), 8);
}

TEST(RenderShrinkOnLoad, FastKeepsTwoPixelsOnTheShorterSide) {
  EXPECT_EQ(fast_jpeg_shrink(40.0, 4000, 1), 1);
  EXPECT_EQ(fast_jpeg_shrink(40.0, 1, 4000), 1);
  EXPECT_EQ(fast_jpeg_shrink(40.0, 4000, 5), 2);
  EXPECT_EQ(fast_jpeg_shrink(40.0, 4000, 16), 8);
}

// A JPEG one or a few pixels thin: decoded at 1/N its short side would be
// 0 pixels, which aborts libvips (the process, not just the render).
TEST(RenderShrinkOnLoad, FastRendersAThinJpegAsConservativeDoes) {
  struct Case {
    int width, height, box;
  };
  for (const auto& c :
       {Case{300, 1, 100}, Case{3000, 1, 1000}, Case{4000, 5, 300}, Case{5, 4000, 300}}) {
    const std::string jpeg = make_image(c.width, c.height, ".jpg");
    auto fast = render(jpeg, fit_in(c.box, c.box, "jpeg"), Limits{});
    auto conservative =
        render(jpeg, with_shrink_on_load(fit_in(c.box, c.box, "jpeg"), ShrinkOnLoad::conservative),
               Limits{});
    ASSERT_TRUE(fast.ok()) << describe(fast.error());
    ASSERT_TRUE(conservative.ok()) << describe(conservative.error());
    EXPECT_EQ(fast->width, conservative->width) << c.width << "x" << c.height;
    EXPECT_EQ(fast->height, conservative->height) << c.width << "x" << c.height;
  }
}

// The DCT-scaled decode rounds its size down; the output must still have
// the size libvips' own path gives (the source's aspect ratio, rounded).
TEST(RenderShrinkOnLoad, FastMakesTheSameSizeAsConservativeForAwkwardAspectRatios) {
  struct Case {
    int width, height;
    Resize resize;
    int expected_width, expected_height;
  };
  const Case cases[] = {
      {1001, 667, Resize{300, 100, ResizeMode::fit, Gravity::centre, false}, 150, 100},
      {3333, 1111, Resize{0, 150, ResizeMode::fit, Gravity::centre, false}, 450, 150},
      {2000, 1500, Resize{200, 200, ResizeMode::fit, Gravity::centre, false}, 200, 150},
      {4001, 2999, Resize{300, 300, ResizeMode::pad, Gravity::centre, false}, 300, 300},
      {2001, 3333, Resize{148, 288, ResizeMode::fill, Gravity::north, false}, 148, 288},
  };
  for (const auto& c : cases) {
    const std::string jpeg = make_image(c.width, c.height, ".jpg");
    Recipe recipe;
    recipe.operations.push_back(c.resize);
    recipe.encoder.format = "jpeg";
    auto fast = render(jpeg, recipe, Limits{});
    auto conservative =
        render(jpeg, with_shrink_on_load(recipe, ShrinkOnLoad::conservative), Limits{});
    ASSERT_TRUE(fast.ok()) << describe(fast.error());
    ASSERT_TRUE(conservative.ok()) << describe(conservative.error());
    EXPECT_EQ(fast->width, c.expected_width) << c.width << "x" << c.height;
    EXPECT_EQ(fast->height, c.expected_height) << c.width << "x" << c.height;
    EXPECT_EQ(decode(fast->bytes).width, c.expected_width);
    EXPECT_EQ(conservative->width, fast->width) << c.width << "x" << c.height;
    EXPECT_EQ(conservative->height, fast->height) << c.width << "x" << c.height;
  }
}

TEST(RenderShrinkOnLoad, FastDecodesAtAQuarterAndAnEighthToo) {
  // 2000x1500 into 300 px: a shrink of 6.7, decoded at 1/4 (libvips: 1/2);
  // into 160 px, 12.5 and 1/8 (libvips: 1/4).
  const std::string jpeg = make_image(2000, 1500, ".jpg");
  for (const int box : {300, 160}) {
    auto fast = render(jpeg, fit_in(box, box, "jpeg"), Limits{});
    auto conservative = render(
        jpeg, with_shrink_on_load(fit_in(box, box, "jpeg"), ShrinkOnLoad::conservative), Limits{});
    ASSERT_TRUE(fast.ok()) << describe(fast.error());
    ASSERT_TRUE(conservative.ok()) << describe(conservative.error());
    EXPECT_EQ(fast->width, box);
    EXPECT_EQ(fast->height, box * 3 / 4);
    EXPECT_NE(fast->bytes, conservative->bytes) << box;
    EXPECT_LT(mean_de00(load(fast->bytes), load(conservative->bytes)), 1.0) << box;
  }
}

TEST(RenderShrinkOnLoad, FastAndConservativeAgreeOnSizeAndColour) {
  const std::string photo = corpus::photo_jpeg();
  const Recipe fit = fit_in(200, 200, "jpeg");
  auto fast = render(photo, with_shrink_on_load(fit, ShrinkOnLoad::fast), Limits{});
  auto conservative = render(photo, with_shrink_on_load(fit, ShrinkOnLoad::conservative), Limits{});
  ASSERT_TRUE(fast.ok()) << describe(fast.error());
  ASSERT_TRUE(conservative.ok()) << describe(conservative.error());
  EXPECT_EQ(fast->width, 200);
  EXPECT_EQ(fast->height, 125);
  EXPECT_EQ(conservative->width, 200);
  EXPECT_EQ(conservative->height, 125);
  EXPECT_NE(fast->bytes, conservative->bytes) << "the two policies decoded alike";
  EXPECT_LT(mean_de00(load(fast->bytes), load(conservative->bytes)), 1.0);
}

TEST(RenderShrinkOnLoad, IsTheDefault) {
  EXPECT_EQ(Recipe{}.shrink_on_load, ShrinkOnLoad::fast);
}

TEST(RenderShrinkOnLoad, FastLeavesOtherFormatsToLibvips) {
  const std::string png = reencode(corpus::photo_jpeg(), 1.0, ".png");
  const Recipe fit = fit_in(200, 200, "png");
  auto fast = render(png, with_shrink_on_load(fit, ShrinkOnLoad::fast), Limits{});
  auto conservative = render(png, with_shrink_on_load(fit, ShrinkOnLoad::conservative), Limits{});
  ASSERT_TRUE(fast.ok()) << describe(fast.error());
  ASSERT_TRUE(conservative.ok()) << describe(conservative.error());
  EXPECT_EQ(fast->bytes, conservative->bytes);
}

TEST(RenderShrinkOnLoad, FastCoversFillAndSquareBoxesExactly) {
  const std::string photo = corpus::photo_jpeg();
  struct Case {
    Operation operation;
    int width;
    int height;
  };
  const Case cases[] = {
      {Resize{120, 120, ResizeMode::fill, Gravity::attention, false}, 120, 120},
      {Resize{150, 60, ResizeMode::fill, Gravity::north, false}, 150, 60},
      {Resize{200, 200, ResizeMode::pad, Gravity::centre, false}, 200, 200},
      {SquareCrop{96}, 96, 96},
  };
  for (const auto& c : cases) {
    Recipe recipe;
    recipe.operations.push_back(c.operation);
    auto out = render(photo, recipe, Limits{});
    ASSERT_TRUE(out.ok()) << describe(out.error());
    EXPECT_EQ(out->width, c.width);
    EXPECT_EQ(out->height, c.height);
    const auto decoded = decode(out->bytes);
    EXPECT_EQ(decoded.width, c.width);
    EXPECT_EQ(decoded.height, c.height);
  }
}

TEST(RenderShrinkOnLoad, FastStillTurnsEveryOrientationUpright) {
  // 600x400 into 130 px: a shrink of at least 3, decoded at 1/2.
  for (int orientation = 1; orientation <= 8; ++orientation) {
    auto out = render(corpus::oriented_jpeg(orientation), fit_in(130, 130), Limits{});
    ASSERT_TRUE(out.ok()) << describe(out.error());
    const bool swapped = orientation >= 5;
    const VImage image = load(out->bytes);
    EXPECT_EQ(image.width(), swapped ? 87 : 130) << "orientation " << orientation;
    EXPECT_EQ(image.height(), swapped ? 130 : 87) << "orientation " << orientation;
    EXPECT_GT(corner_brightness(image, 0, 12, 2), 200) << "orientation " << orientation;
    EXPECT_LT(corner_brightness(image, 2, 12, 2), 110) << "orientation " << orientation;
  }
}

TEST(RenderShrinkOnLoad, FastStillRejectsATruncatedJpeg) {
  auto out = render(corpus::truncated_jpeg(), fit_in(200, 200), Limits{});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::decode_failed) << describe(out.error());
}

// ---------------------------------------------------------------------------
// Tiny images.

TEST(RenderTiny, KeepsAOneByOnePixelImage) {
  auto out = render(corpus::one_by_one_png(), as_is(), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(out->width, 1);
  EXPECT_EQ(out->height, 1);
  const auto pixel = mean_rgb(load(out->bytes), 0, 0, 1, 1);
  EXPECT_NEAR(pixel[0], 200, 1);
  EXPECT_NEAR(pixel[1], 100, 1);
  EXPECT_NEAR(pixel[2], 50, 1);
}

TEST(RenderTiny, DoesNotEnlargeAOneByOnePixelImageIntoABox) {
  auto out = render(corpus::one_by_one_png(), fit_in(100, 100, "jpeg"), Limits{});
  ASSERT_TRUE(out.ok()) << describe(out.error());
  EXPECT_EQ(out->width, 1);
  EXPECT_EQ(out->height, 1);
  EXPECT_EQ(decode(out->bytes).width, 1);
}

// ---------------------------------------------------------------------------
// Rejected files, each with its reason.

void expect_rejected(const std::string& bytes, Reason reason, const Limits& limits = Limits{}) {
  auto out = render(bytes, fit_in(320, 320), limits);
  ASSERT_FALSE(out.ok()) << "rendered " << out->width << "x" << out->height;
  EXPECT_EQ(out.error().reason, reason) << describe(out.error());
  EXPECT_FALSE(out.error().message.empty());
}

TEST(RenderRejects, ATruncatedJpegAsDecodeFailed) {
  expect_rejected(corpus::truncated_jpeg(), Reason::decode_failed);
}

// Found by tests/fuzz/render_fuzzer: libpng reports a broken IHDR (unknown
// compression and filter methods, stale CRC) as a warning, and libvips fails
// with an empty error buffer; the rejection must still say why.
TEST(RenderRejects, APngWithAnImpossibleHeaderAsDecodeFailedWithAMessage) {
  std::string png = corpus::one_by_one_png();
  ASSERT_EQ(png.substr(12, 4), "IHDR");
  png[26] = 1;  // compression method: only 0 exists
  png[27] = 3;  // filter method: only 0 exists
  expect_rejected(png, Reason::decode_failed);
}

TEST(RenderRejects, AZeroByteFileAsEmptyObject) {
  expect_rejected(corpus::zero_bytes(), Reason::empty_object);
}

TEST(RenderRejects, TextNamedJpgAsNotAnImage) {
  expect_rejected(corpus::text_named_jpg(), Reason::not_an_image);
}

TEST(RenderRejects, SvgAsFormatNotAllowedBecauseItsLoaderIsUntrusted) {
  expect_rejected(corpus::svg(), Reason::format_not_allowed);
}

TEST(RenderRejects, The30000PixelPngBombAsTooLargeFromTheHeader) {
  const std::string bomb = corpus::png_bomb();
  const auto started = std::chrono::steady_clock::now();
  expect_rejected(bomb, Reason::too_many_pixels);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  // Inflating the IDAT alone takes seconds; the header is microseconds.
  EXPECT_LT(elapsed, std::chrono::milliseconds(500)) << "decided before decoding";
  auto header = inspect(bomb, Limits{});
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.error().reason, Reason::too_many_pixels) << describe(header.error());
  EXPECT_NE(header.error().message.find("30000x30000"), std::string::npos)
      << header.error().message;
}

TEST(RenderRejects, AJpegHeaderClaiming65000By65000AsTooLarge) {
  expect_rejected(corpus::jpeg_claiming_65000(), Reason::too_many_pixels);
  auto header = inspect(corpus::jpeg_claiming_65000(), Limits{});
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.error().reason, Reason::too_many_pixels) << describe(header.error());
}

TEST(RenderRejects, AFormatMissingFromAllowedFormatsAsNotAnImage) {
  Limits only_jpeg;
  only_jpeg.allowed_formats = {"jpeg"};
  expect_rejected(corpus::palette_png(), Reason::format_not_allowed, only_jpeg);
  expect_rejected(corpus::webp(), Reason::format_not_allowed, only_jpeg);
  auto jpeg = render(corpus::photo_jpeg(), fit_in(320, 320), only_jpeg);
  EXPECT_TRUE(jpeg.ok()) << describe(jpeg.error());
}

TEST(RenderRejects, AvifWhenOnlyHeicIsAllowed) {
  Limits only_heif;
  only_heif.allowed_formats = {"heif"};
  expect_rejected(corpus::avif(), Reason::format_not_allowed, only_heif);
  auto heic = render(corpus::heic(), fit_in(320, 320), only_heif);
  EXPECT_TRUE(heic.ok()) << describe(heic.error());
}

// Several threads on one image (a lone render on idle cores) split the work
// into tiles differently, never the pixels: the bytes must not change.
TEST(RenderThreads, GiveTheSameBytesOnOneThreadAsOnSeveral) {
  Recipe rotated = fit_in(500, 500, "jpeg");
  rotated.operations.push_back(Rotate{90});
  rotated.operations.push_back(Sharpen{});
  Recipe all_frames = fit_in(40, 40);
  all_frames.animation.all_frames = true;
  struct Case {
    const char* name;
    std::string bytes;
    Recipe recipe;
  };
  const Case cases[] = {
      {"photo fitted", testing_support::make_image(3000, 2000, ".jpg"), fit_in(1024, 1024, "jpeg")},
      {"oriented, rotated, sharpened", corpus::oriented_jpeg(6), rotated},
      {"colour managed, to WebP", corpus::adobe_rgb_jpeg(), fit_in(300, 300, "webp")},
      {"every frame", corpus::animated("gif", 4), all_frames},
  };
  for (const auto& c : cases) {
    auto one = render(c.bytes, c.recipe, Limits{}, 1);
    ASSERT_TRUE(one.ok()) << c.name << ": " << describe(one.error());
    for (const int threads : {2, 4}) {
      auto several = render(c.bytes, c.recipe, Limits{}, threads);
      ASSERT_TRUE(several.ok()) << c.name << ": " << describe(several.error());
      EXPECT_EQ(several->bytes, one->bytes) << c.name << " on " << threads << " threads";
      EXPECT_EQ(several->phash, one->phash) << c.name;
    }
  }
}

// The concurrency hint is metadata: no metadata policy may remove it.
TEST(RenderThreads, ReachLibvipsWhateverTheMetadataPolicy) {
  for (const auto policy :
       {MetadataPolicy::strip, MetadataPolicy::keep_copyright, MetadataPolicy::keep}) {
    Recipe recipe = fit_in(200, 200, "jpeg");
    recipe.metadata = policy;
    for (const int threads : {1, 2, 3}) {
      auto out = render(corpus::oriented_jpeg(6), recipe, Limits{}, threads);
      ASSERT_TRUE(out.ok()) << describe(out.error());
      EXPECT_EQ(out->threads, threads) << static_cast<int>(policy);
    }
    Recipe as_loaded = as_is("png");
    as_loaded.metadata = policy;
    auto out = render(corpus::photo_jpeg(), as_loaded, Limits{}, 2);
    ASSERT_TRUE(out.ok()) << describe(out.error());
    EXPECT_EQ(out->threads, 2) << "without a resize first, " << static_cast<int>(policy);
  }
}

TEST(Inspect, ReadsTheHeaderOfEveryAcceptedFormat) {
  struct Case {
    std::string bytes;
    const char* format;
    int width, height, frames;
  };
  const Case cases[] = {
      {corpus::photo_jpeg(), "jpeg", corpus::kPhotoWidth, corpus::kPhotoHeight, 1},
      {corpus::palette_png(), "png", corpus::kPhotoWidth, corpus::kPhotoHeight, 1},
      {corpus::webp(), "webp", corpus::kPhotoWidth, corpus::kPhotoHeight, 1},
      {corpus::avif(), "avif", corpus::kPhotoWidth, corpus::kPhotoHeight, 1},
      {corpus::heic(), "heif", corpus::kPhotoWidth, corpus::kPhotoHeight, 1},
      {corpus::tiff(), "tiff", corpus::kPhotoWidth, corpus::kPhotoHeight, 1},
      {corpus::animated("gif", 3), "gif", corpus::kFrameWidth, corpus::kFrameHeight, 3},
      {corpus::animated("webp", 3), "webp", corpus::kFrameWidth, corpus::kFrameHeight, 3},
      {corpus::oriented_jpeg(6), "jpeg", corpus::kOrientedWidth, corpus::kOrientedHeight, 1},
  };
  for (const auto& c : cases) {
    auto info = inspect(c.bytes, Limits{});
    ASSERT_TRUE(info.ok()) << c.format << ": " << describe(info.error());
    EXPECT_EQ(info->format, c.format);
    EXPECT_EQ(info->width, c.width) << c.format;
    EXPECT_EQ(info->height, c.height) << c.format;
    EXPECT_EQ(info->frames, c.frames) << c.format;
  }
}

}  // namespace
}  // namespace imgpipe::image
