#include "image/processor.h"

#include <gtest/gtest.h>

#include "support/test_images.h"

namespace imgpipe::image {
namespace {

using testing_support::decode;
using testing_support::make_image;

const Limits kLimits;
const FitSpec kBox1024;

TEST(FitWithin, ShrinksALandscapeJpegToTheBoxWidthKeepingTheAspectRatio) {
  auto out = fit_within(make_image(2000, 1000, ".jpg"), kBox1024, kLimits);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->width, 1024);
  EXPECT_EQ(out->height, 512);
  EXPECT_EQ(out->format, "jpeg");
  EXPECT_EQ(out->content_type, "image/jpeg");
  EXPECT_EQ(out->input.width, 2000);
  EXPECT_EQ(out->input.height, 1000);
  const auto decoded = decode(out->bytes);
  EXPECT_EQ(decoded.width, 1024);
  EXPECT_EQ(decoded.height, 512);
  EXPECT_EQ(decoded.loader, "jpegload_buffer");
}

TEST(FitWithin, ShrinksAPortraitImageToTheBoxHeight) {
  auto out = fit_within(make_image(900, 3000, ".png"), kBox1024, kLimits);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->height, 1024);
  EXPECT_EQ(out->width, 307);
  EXPECT_EQ(out->format, "png");
}

TEST(FitWithin, NeverEnlargesASmallImage) {
  auto out = fit_within(make_image(300, 200, ".png"), kBox1024, kLimits);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->width, 300);
  EXPECT_EQ(out->height, 200);
}

TEST(FitWithin, KeepsTheAlphaChannelOfAPng) {
  auto out = fit_within(make_image(2048, 2048, ".png", 4), kBox1024, kLimits);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(decode(out->bytes).bands, 4);
}

TEST(FitWithin, WritesWebpAsWebp) {
  auto out = fit_within(make_image(1500, 1500, ".webp"), kBox1024, kLimits);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->format, "webp");
  EXPECT_EQ(decode(out->bytes).loader, "webpload_buffer");
}

TEST(FitWithin, RotatesUprightByExifOrientation) {
  // Orientation 6: the stored image must be turned 90° clockwise for display,
  // so a stored 400x200 image is 200 wide and 400 high, and the marker that
  // is stored top-left shows top-right.
  auto out = fit_within(testing_support::make_oriented_jpeg(400, 200, 6), kBox1024, kLimits);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->width, 200);
  EXPECT_EQ(out->height, 400);
  EXPECT_GT(testing_support::mean_at(out->bytes, 200 - 20, 0, 16), 200) << "marker top-right";
  EXPECT_LT(testing_support::mean_at(out->bytes, 0, 0, 16), 120) << "no marker top-left";
}

TEST(FitWithin, StripsMetadata) {
  auto out = fit_within(testing_support::make_oriented_jpeg(400, 200, 6), kBox1024, kLimits);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_FALSE(decode(out->bytes).has_exif);
}

TEST(FitWithin, ConvertsCmykToSrgb) {
  auto out = fit_within(testing_support::make_cmyk_jpeg(600, 400), kBox1024, kLimits);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const auto decoded = decode(out->bytes);
  EXPECT_EQ(decoded.bands, 3);
  EXPECT_EQ(decoded.interpretation, "srgb");
}

TEST(FitWithin, RejectsAnEmptyObject) {
  auto out = fit_within("", kBox1024, kLimits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::empty_object);
}

TEST(FitWithin, RejectsTextThatIsNotAnImage) {
  auto out = fit_within("just some text, named photo.jpg", kBox1024, kLimits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::not_an_image);
}

TEST(FitWithin, RejectsATruncatedJpeg) {
  std::string jpeg = make_image(1200, 900, ".jpg");
  jpeg.resize(jpeg.size() / 2);
  auto out = fit_within(jpeg, kBox1024, kLimits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::decode_failed) << out.error().message;
}

TEST(FitWithin, RejectsTooManyPixelsFromTheHeaderAlone) {
  Limits small;
  small.max_input_pixels = 1'000'000;
  auto out = fit_within(make_image(2000, 1000, ".png"), kBox1024, small);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::image_too_large);
  EXPECT_NE(out.error().message.find("2000x1000"), std::string::npos) << out.error().message;
}

TEST(FitWithin, RejectsTooManyBytes) {
  Limits small;
  small.max_input_bytes = 100;
  auto out = fit_within(make_image(200, 200, ".png"), kBox1024, small);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::image_too_large);
}

TEST(FitWithin, RefusesUntrustedLoadersSuchAsSvg) {
  auto out = fit_within(R"(<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>)",
                        kBox1024, kLimits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::not_an_image);
}

TEST(Probe, ReadsDimensionsAndFormat) {
  auto header = probe(make_image(640, 480, ".gif"), kLimits);
  ASSERT_TRUE(header.ok()) << header.error().message;
  EXPECT_EQ(header->width, 640);
  EXPECT_EQ(header->height, 480);
  EXPECT_EQ(header->format, "gif");
}

}  // namespace
}  // namespace imgpipe::image
