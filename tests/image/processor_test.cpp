#include <gtest/gtest.h>

#include "image/render.h"
#include "support/test_images.h"

namespace imgpipe::image {
namespace {

using testing_support::decode;
using testing_support::make_image;

const Limits kLimits;

// The default rule's recipe: fit inside 1024x1024, same format.
Result<Rendered> fit(const std::string& bytes, const Limits& limits = kLimits) {
  Recipe recipe;
  recipe.operations.push_back(Resize{1024, 1024});
  return render(bytes, recipe, limits);
}

TEST(DefaultRecipe, ShrinksALandscapeJpegToTheBoxWidthKeepingTheAspectRatio) {
  auto out = fit(make_image(2000, 1000, ".jpg"));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->width, 1024);
  EXPECT_EQ(out->height, 512);
  EXPECT_EQ(out->format, "jpeg");
  EXPECT_EQ(out->content_type, "image/jpeg");
  EXPECT_EQ(out->source.width, 2000);
  EXPECT_EQ(out->source.height, 1000);
  const auto decoded = decode(out->bytes);
  EXPECT_EQ(decoded.width, 1024);
  EXPECT_EQ(decoded.height, 512);
  EXPECT_EQ(decoded.loader, "jpegload_buffer");
}

TEST(DefaultRecipe, ShrinksAPortraitImageToTheBoxHeight) {
  auto out = fit(make_image(900, 3000, ".png"));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->height, 1024);
  EXPECT_EQ(out->width, 307);
  EXPECT_EQ(out->format, "png");
}

TEST(DefaultRecipe, NeverEnlargesASmallImage) {
  auto out = fit(make_image(300, 200, ".png"));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->width, 300);
  EXPECT_EQ(out->height, 200);
}

TEST(DefaultRecipe, KeepsTheAlphaChannelOfAPng) {
  auto out = fit(make_image(2048, 2048, ".png", 4));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(decode(out->bytes).bands, 4);
}

TEST(DefaultRecipe, WritesWebpAsWebp) {
  auto out = fit(make_image(1500, 1500, ".webp"));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->format, "webp");
  EXPECT_EQ(decode(out->bytes).loader, "webpload_buffer");
}

TEST(DefaultRecipe, RotatesUprightByExifOrientation) {
  // Orientation 6: the stored image must be turned 90° clockwise for display,
  // so a stored 400x200 image is 200 wide and 400 high, and the marker that
  // is stored top-left shows top-right.
  auto out = fit(testing_support::make_oriented_jpeg(400, 200, 6));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->width, 200);
  EXPECT_EQ(out->height, 400);
  EXPECT_GT(testing_support::mean_at(out->bytes, 200 - 20, 0, 16), 200) << "marker top-right";
  EXPECT_LT(testing_support::mean_at(out->bytes, 0, 0, 16), 120) << "no marker top-left";
}

TEST(DefaultRecipe, StripsMetadata) {
  auto out = fit(testing_support::make_oriented_jpeg(400, 200, 6));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_FALSE(decode(out->bytes).has_exif);
}

TEST(DefaultRecipe, ConvertsCmykToSrgb) {
  auto out = fit(testing_support::make_cmyk_jpeg(600, 400));
  ASSERT_TRUE(out.ok()) << out.error().message;
  const auto decoded = decode(out->bytes);
  EXPECT_EQ(decoded.bands, 3);
  EXPECT_EQ(decoded.interpretation, "srgb");
}

TEST(DefaultRecipe, RejectsAnEmptyObject) {
  auto out = fit("");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::empty_object);
}

TEST(DefaultRecipe, RejectsTextThatIsNotAnImage) {
  auto out = fit("just some text, named photo.jpg");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::not_an_image);
}

TEST(DefaultRecipe, RejectsATruncatedJpeg) {
  std::string jpeg = make_image(1200, 900, ".jpg");
  jpeg.resize(jpeg.size() / 2);
  auto out = fit(jpeg);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::decode_failed) << out.error().message;
}

TEST(DefaultRecipe, RejectsTooManyPixelsFromTheHeaderAlone) {
  Limits small;
  small.max_input_pixels = 1'000'000;
  auto out = fit(make_image(2000, 1000, ".png"), small);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::too_many_pixels);
  EXPECT_NE(out.error().message.find("2000x1000"), std::string::npos) << out.error().message;
}

TEST(DefaultRecipe, RejectsTooManyBytes) {
  Limits small;
  small.max_input_bytes = 100;
  auto out = fit(make_image(200, 200, ".png"), small);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::too_many_bytes);
}

TEST(DefaultRecipe, RefusesUntrustedLoadersSuchAsSvg) {
  auto out = fit(R"(<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>)");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, Reason::format_not_allowed);
}

TEST(Inspect, ReadsDimensionsAndFormat) {
  auto header = inspect(make_image(640, 480, ".gif"), kLimits);
  ASSERT_TRUE(header.ok()) << header.error().message;
  EXPECT_EQ(header->width, 640);
  EXPECT_EQ(header->height, 480);
  EXPECT_EQ(header->format, "gif");
}

}  // namespace
}  // namespace imgpipe::image
