#include "pipeline/key_collisions.h"

#include <gtest/gtest.h>

// Designated initializers leave the other Match fields at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace imgpipe::pipeline {
namespace {

TEST(WhyKeysCanMeet, NotWithTheWholeKey) {
  EXPECT_EQ(why_keys_can_meet("{key}"), std::nullopt);
  EXPECT_EQ(why_keys_can_meet("thumbs/{key}.{format}"), std::nullopt);
  EXPECT_EQ(why_keys_can_meet("{variant}/{etag}/{key}"), std::nullopt);
}

TEST(WhyKeysCanMeet, NotWithDirNameAndExtWrittenTogether) {
  EXPECT_EQ(why_keys_can_meet("{dir}/{name}.{ext}"), std::nullopt);
  EXPECT_EQ(why_keys_can_meet("thumbs/{dir}/{name}.{ext}-{variant}.{format}"), std::nullopt);
}

TEST(WhyKeysCanMeet, NameAloneDropsTheExtensionAndTheDirectory) {
  EXPECT_EQ(why_keys_can_meet("{name}"),
            "{name} drops the extension and the directory; add {dir}/ and {ext} or use {key}");
}

TEST(WhyKeysCanMeet, DirAndNameWithTheOutputFormatDropTheExtension) {
  EXPECT_EQ(why_keys_can_meet("thumbs/{dir}/{name}.{format}"),
            "{name} drops the extension; add {ext} or use {key}");
  EXPECT_EQ(why_keys_can_meet("thumbs/{dir}/{name}.webp"),
            "{name} drops the extension; add {ext} or use {key}");
}

TEST(WhyKeysCanMeet, NameAndExtWithoutDirDropTheDirectory) {
  EXPECT_EQ(why_keys_can_meet("anim/{name}.{ext}.{format}"),
            "it drops the directory; add {dir}/ or use {key}");
}

TEST(WhyKeysCanMeet, TheEtagAloneIsNotTheKey) {
  EXPECT_EQ(why_keys_can_meet("by-etag/{etag}.{format}"),
            "nothing in it comes from the source key ({etag} is the same for equal contents); "
            "use {key}");
  EXPECT_EQ(why_keys_can_meet("{variant}.{format}"),
            "nothing in it comes from the source key; use {key}");
}

TEST(WhyKeysCanMeet, DirNameAndExtMustBeWrittenAsAPath) {
  // "a/bc.d" and "ab/c.d" both render "abcd".
  EXPECT_EQ(why_keys_can_meet("{dir}{name}{ext}"),
            "{dir}, {name} and {ext} tell keys apart only written as {dir}/{name}.{ext}; or use "
            "{key}");
}

TEST(MatchesCanOverlap, UnlessBucketsPrefixesSuffixesOrSizesExcludeEachOther) {
  EXPECT_TRUE(matches_can_overlap(Match{.bucket = "raw"}, Match{.bucket = "raw"}));
  EXPECT_FALSE(matches_can_overlap(Match{.bucket = "raw"}, Match{.bucket = "uploads"}));
  EXPECT_TRUE(matches_can_overlap(Match{.bucket = "raw", .prefix = "photos/"},
                                  Match{.bucket = "raw", .prefix = "photos/2026/"}));
  EXPECT_TRUE(
      matches_can_overlap(Match{.bucket = "raw", .prefix = "photos/"}, Match{.bucket = "raw"}));
  EXPECT_FALSE(matches_can_overlap(Match{.bucket = "raw", .prefix = "photos/"},
                                   Match{.bucket = "raw", .prefix = "videos/"}));
  EXPECT_FALSE(matches_can_overlap(Match{.bucket = "raw", .suffix = ".jpg"},
                                   Match{.bucket = "raw", .suffix = ".png"}));
  EXPECT_TRUE(matches_can_overlap(Match{.bucket = "raw", .suffix = ".JPG"},
                                  Match{.bucket = "raw", .suffix = "x.jpg"}));
  EXPECT_FALSE(matches_can_overlap(Match{.bucket = "raw", .max_size = 100},
                                   Match{.bucket = "raw", .min_size = 101}));
  EXPECT_TRUE(matches_can_overlap(Match{.bucket = "raw", .glob = "*.jpg"},
                                  Match{.bucket = "raw", .glob = "*.png"}))
      << "globs are not compared";
}

Output output(std::string name, std::string bucket, std::string key_template,
              std::string format = "keep") {
  Output out;
  out.name = std::move(name);
  out.bucket = std::move(bucket);
  out.key_template = std::move(key_template);
  out.recipe.encoder.format = std::move(format);
  return out;
}

TEST(OutputsCanWriteSameKey, SameBucketAndTemplate) {
  EXPECT_TRUE(outputs_can_write_same_key(output("a", "out", "{key}"), output("b", "out", "{key}")));
  EXPECT_FALSE(
      outputs_can_write_same_key(output("a", "out", "{key}"), output("b", "other", "{key}")));
  EXPECT_FALSE(
      outputs_can_write_same_key(output("a", "out", "{key}"), output("b", "out", "t/{key}")));
}

TEST(OutputsCanWriteSameKey, NotWithDifferentVariantNames) {
  EXPECT_FALSE(outputs_can_write_same_key(output("small", "out", "{variant}/{key}"),
                                          output("large", "out", "{variant}/{key}")));
  EXPECT_TRUE(outputs_can_write_same_key(output("small", "out", "{variant}/{key}"),
                                         output("large", "out", "small/{key}")));
}

TEST(OutputsCanWriteSameKey, SpelledDifferentlyButRenderingAlike) {
  EXPECT_TRUE(outputs_can_write_same_key(output("a", "out", "{key}.{format}", "webp"),
                                         output("b", "out", "{dir}/{name}.{ext}.webp")));
  EXPECT_TRUE(outputs_can_write_same_key(output("a", "out", "t/{dir}/{name}.{ext}"),
                                         output("b", "out", "t/{name}.{ext}")))
      << "a key without a directory renders alike";
  EXPECT_TRUE(outputs_can_write_same_key(output("a", "out", "{key}.{format}"),
                                         output("b", "out", "{key}.png", "png")))
      << "keep writes .png for a PNG input";
  EXPECT_FALSE(outputs_can_write_same_key(output("a", "out", "{key}.{format}", "webp"),
                                          output("b", "out", "{key}.{format}", "png")));
}

TEST(OutputsCanWriteSameKey, OneKeyAndTheOthersSidecar) {
  Output with_sidecar = output("a", "out", "{key}");
  with_sidecar.sidecar = true;
  EXPECT_TRUE(outputs_can_write_same_key(with_sidecar, output("b", "out", "{key}.json")));
  EXPECT_TRUE(outputs_can_write_same_key(output("b", "out", "{key}.json"), with_sidecar));
}

Rule rule(Match match, std::vector<Output> outputs) {
  return Rule{"r", std::move(match), std::move(outputs)};
}

TEST(KeyCollisionProblems, NamesTheOutputAndTheTemplate) {
  const auto problems = key_collision_problems(
      {rule(Match{.bucket = "raw"}, {output("t", "processed", "thumbs/{dir}/{name}.webp")})});
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "rules[0].outputs[0].key: \"thumbs/{dir}/{name}.webp\" can render two "
                          "source keys to one output key ({name} drops the extension; add {ext} "
                          "or use {key})"}));
}

TEST(KeyCollisionProblems, NamesTheEarlierOutputWithTheSameKeys) {
  const auto problems = key_collision_problems(
      {rule(Match{.bucket = "raw"}, {output("a", "processed", "{key}")}),
       rule(Match{.bucket = "raw", .prefix = "photos/"}, {output("b", "processed", "{key}")})});
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "rules[1].outputs[0].key: renders the same keys as rules[0].outputs[0] "
                          "in bucket \"processed\" (one object would get both; add {variant} or "
                          "another prefix)"}));
}

TEST(KeyCollisionProblems, TwoOutputsOfOneRule) {
  const auto problems = key_collision_problems(
      {rule(Match{.bucket = "raw"}, {output("a", "processed", "{key}"), output("b", "out", "{key}"),
                                     output("c", "processed", "{key}")})});
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "rules[0].outputs[2].key: renders the same keys as rules[0].outputs[0] "
                          "in bucket \"processed\" (one object would get both; add {variant} or "
                          "another prefix)"}));
}

TEST(KeyCollisionProblems, NoneForRulesOfDifferentSourceBuckets) {
  EXPECT_TRUE(key_collision_problems(
                  {rule(Match{.bucket = "raw"}, {output("a", "processed", "{key}")}),
                   rule(Match{.bucket = "uploads"}, {output("a", "processed", "{key}")})})
                  .empty());
}

TEST(KeyCollisionProblems, NoneForAnOutputThatOptsOut) {
  Output opted_out = output("t", "processed", "{name}.webp");
  opted_out.unique_keys = false;
  EXPECT_TRUE(key_collision_problems({rule(Match{.bucket = "raw"}, {opted_out})}).empty());
  EXPECT_TRUE(
      key_collision_problems({rule(Match{.bucket = "raw"}, {output("a", "processed", "{key}")}),
                              rule(Match{.bucket = "raw"}, {opted_out, opted_out})})
          .empty());
}

}  // namespace
}  // namespace imgpipe::pipeline
