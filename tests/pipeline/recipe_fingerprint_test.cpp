#include "pipeline/recipe_fingerprint.h"

#include <gtest/gtest.h>

#include "pipeline/config.h"

namespace imgpipe::pipeline {
namespace {

Output default_output() {
  return Config{}.effective_rules().front().outputs.front();
}

TEST(RecipeFingerprint, IsSixteenHexDigitsAndTheSameForTheSameOutput) {
  const auto fingerprint = recipe_fingerprint(default_output());
  EXPECT_EQ(fingerprint.size(), 16u);
  EXPECT_EQ(fingerprint.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(fingerprint, recipe_fingerprint(default_output()));
}

TEST(RecipeFingerprint, ChangesWithWhatChangesTheBytesOrMetadataWritten) {
  const auto base = recipe_fingerprint(default_output());
  auto smaller = default_output();
  std::get<image::Resize>(smaller.recipe.operations.front()).width = 512;
  EXPECT_NE(recipe_fingerprint(smaller), base);
  auto quality = default_output();
  quality.recipe.encoder.quality = 70;
  EXPECT_NE(recipe_fingerprint(quality), base);
  auto webp = default_output();
  webp.recipe.encoder.format = "webp";
  EXPECT_NE(recipe_fingerprint(webp), base);
  auto sharpened = default_output();
  sharpened.recipe.operations.push_back(image::Sharpen{0.5});
  EXPECT_NE(recipe_fingerprint(sharpened), base);
  auto tagged = default_output();
  tagged.metadata["team"] = "ml";
  EXPECT_NE(recipe_fingerprint(tagged), base);
  auto exif = default_output();
  exif.recipe.metadata = image::MetadataPolicy::keep;
  EXPECT_NE(recipe_fingerprint(exif), base);
}

TEST(RecipeFingerprint, NamesShrinkOnLoadOnlyWhenItIsNotTheDefault) {
  // Outputs written before the setting existed record the default's
  // fingerprint; a conservative shrink-on-load is a recipe of its own.
  EXPECT_EQ(recipe_description(default_output()).find("shrink_on_load"), std::string::npos);
  auto conservative = default_output();
  conservative.recipe.shrink_on_load = image::ShrinkOnLoad::conservative;
  EXPECT_NE(recipe_fingerprint(conservative), recipe_fingerprint(default_output()));
}

TEST(RecipeFingerprint, IgnoresWhereTheOutputGoes) {
  const auto base = recipe_fingerprint(default_output());
  auto moved = default_output();
  moved.bucket = "elsewhere";
  moved.key_template = "thumbs/{key}";
  moved.name = "renamed";
  EXPECT_EQ(recipe_fingerprint(moved), base);
}

}  // namespace
}  // namespace imgpipe::pipeline
