#include "pipeline/rules.h"

#include <gtest/gtest.h>

// Designated initializers leave the other Match fields at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace imgpipe::pipeline {
namespace {

ObjectRef object(std::string key, std::uint64_t size = 1000,
                 std::string content_type = "image/jpeg", std::string bucket = "raw") {
  return ObjectRef{std::move(bucket), std::move(key), size, std::move(content_type)};
}

TEST(Matches, TakesOnlyItsBucket) {
  Match match{.bucket = "raw"};
  EXPECT_TRUE(matches(match, object("a.jpg")));
  EXPECT_FALSE(matches(match, object("a.jpg", 1000, "image/jpeg", "other")));
}

TEST(Matches, ChecksPrefixAndCaseInsensitiveSuffix) {
  Match match{.bucket = "raw", .prefix = "photos/", .suffix = ".jpg"};
  EXPECT_TRUE(matches(match, object("photos/2026/a.JPG")));
  EXPECT_FALSE(matches(match, object("videos/a.jpg")));
  EXPECT_FALSE(matches(match, object("photos/a.png")));
}

TEST(Matches, GlobStarAlsoCrossesSlashes) {
  Match match{.bucket = "raw", .glob = "uploads/*/avatar.[jp][pn]g"};
  EXPECT_TRUE(matches(match, object("uploads/u1/avatar.png")));
  EXPECT_TRUE(matches(match, object("uploads/teams/u1/avatar.jpg")));
  EXPECT_FALSE(matches(match, object("uploads/u1/banner.png")));
}

TEST(Matches, ContentTypeWithWildcardAndParameters) {
  Match images{.bucket = "raw", .content_type = "image/*"};
  Match png{.bucket = "raw", .content_type = "image/png"};
  EXPECT_TRUE(matches(images, object("a", 1, "image/webp")));
  EXPECT_FALSE(matches(images, object("a", 1, "application/pdf")));
  EXPECT_TRUE(matches(png, object("a", 1, "Image/PNG; charset=binary")));
  EXPECT_FALSE(matches(png, object("a", 1, "image/jpeg")));
  EXPECT_TRUE(matches(png, object("a", 1, ""))) << "unknown content type does not exclude";
}

TEST(Matches, SizeRangeIsInclusive) {
  Match match{.bucket = "raw", .min_size = 10, .max_size = 20};
  EXPECT_FALSE(matches(match, object("a", 9)));
  EXPECT_TRUE(matches(match, object("a", 10)));
  EXPECT_TRUE(matches(match, object("a", 20)));
  EXPECT_FALSE(matches(match, object("a", 21)));
}

TEST(RenderKey, FillsEveryPlaceholder) {
  const KeyParts parts{"trips/2026/beach day.jpeg", "abc123", "thumb", "webp"};
  EXPECT_EQ(render_key("{key}", parts), "trips/2026/beach day.jpeg");
  EXPECT_EQ(render_key("{dir}/{name}-{variant}.{format}", parts),
            "trips/2026/beach day-thumb.webp");
  EXPECT_EQ(render_key("by-etag/{etag}.{ext}", parts), "by-etag/abc123.jpeg");
}

TEST(RenderKey, DropsTheEmptyDirectoryOfATopLevelKey) {
  EXPECT_EQ(render_key("{dir}/{name}.{format}", KeyParts{"a.png", "", "v", "jpg"}), "a.jpg");
  EXPECT_EQ(render_key("out/{dir}/{name}", KeyParts{"a.png", "", "v", "jpg"}), "out/a");
}

TEST(RenderKey, KeepsDotFilesAndNamesWithoutExtension) {
  EXPECT_EQ(render_key("{name}|{ext}", KeyParts{"dir/.hidden", "", "", ""}), ".hidden|");
  EXPECT_EQ(render_key("{name}|{ext}", KeyParts{"README", "", "", ""}), "README|");
}

TEST(UnknownPlaceholders, NamesEachUnknownOne) {
  EXPECT_TRUE(unknown_placeholders("{dir}/{name}.{format}").empty());
  EXPECT_EQ(unknown_placeholders("{dir}/{basename}.{fmt}"),
            (std::vector<std::string>{"{basename}", "{fmt}"}));
  EXPECT_EQ(unknown_placeholders("{dir}/{name"), (std::vector<std::string>{"{name"}));
}

Output output_to(std::string bucket, std::string key_template, std::string format = "keep") {
  Output output;
  output.bucket = std::move(bucket);
  output.key_template = std::move(key_template);
  output.recipe.encoder.format = std::move(format);
  return output;
}

TEST(CouldRetrigger, NotForAnotherBucket) {
  EXPECT_FALSE(could_retrigger(output_to("processed", "{key}"), Match{.bucket = "raw"}));
}

TEST(CouldRetrigger, YesForTheSameBucketWithoutKeyFilters) {
  EXPECT_TRUE(could_retrigger(output_to("raw", "thumbs/{key}"), Match{.bucket = "raw"}));
}

TEST(CouldRetrigger, NotWhenTheFixedPrefixDiffers) {
  EXPECT_FALSE(could_retrigger(output_to("raw", "thumbs/{key}"),
                               Match{.bucket = "raw", .prefix = "uploads/"}));
  EXPECT_TRUE(could_retrigger(output_to("raw", "uploads/thumbs/{key}"),
                              Match{.bucket = "raw", .prefix = "uploads/"}));
  EXPECT_TRUE(
      could_retrigger(output_to("raw", "{key}"), Match{.bucket = "raw", .prefix = "uploads/"}))
      << "{key} may start with uploads/";
}

// Found by tests/fuzz/key_template_fuzzer: "/{key}" and "//uploads/{key}" are
// written without their empty segments, so they land where the match looks.
TEST(CouldRetrigger, SeesTheKeyRenderKeyWritesNotTheTemplatesEmptySegments) {
  const Match uploads{.bucket = "raw", .prefix = "uploads/"};
  EXPECT_EQ(render_key("/{key}", {.key = "uploads/a.jpg"}), "uploads/a.jpg");
  EXPECT_TRUE(could_retrigger(output_to("raw", "/{key}"), uploads));
  EXPECT_TRUE(could_retrigger(output_to("raw", "//uploads//{name}.jpg"), uploads));
  EXPECT_FALSE(could_retrigger(output_to("raw", "/thumbs/{key}"), uploads));
}

TEST(CouldRetrigger, NotWhenTheOutputFormatExtensionCannotMatchTheSuffix) {
  EXPECT_FALSE(could_retrigger(output_to("raw", "t/{name}.{format}", "webp"),
                               Match{.bucket = "raw", .suffix = ".jpg"}));
  EXPECT_TRUE(could_retrigger(output_to("raw", "t/{name}.{format}", "jpeg"),
                              Match{.bucket = "raw", .suffix = ".jpg"}));
  EXPECT_TRUE(could_retrigger(output_to("raw", "t/{key}", "webp"),
                              Match{.bucket = "raw", .suffix = ".jpg"}));
}

}  // namespace
}  // namespace imgpipe::pipeline
