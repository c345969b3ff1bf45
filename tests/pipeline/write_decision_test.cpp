#include "pipeline/write_decision.h"

#include <gtest/gtest.h>

#include "pipeline/products.h"
#include "pipeline/recipe_fingerprint.h"

namespace imgpipe::pipeline {
namespace {

const SourceVersion kSource{"raw", "photos/a b.jpg", "etag-2", "00000000000000A0"};
const std::string kRecipe = "0123456789abcdef";

s3::ObjectInfo output_of(const std::string& source_key, const std::string& etag,
                         const std::string& sequencer) {
  s3::ObjectInfo info;
  info.etag = "output-etag";
  info.metadata = {
      {kSourceEtagMetadata, etag}, {kSourceKeyMetadata, source_key}, {kRecipeMetadata, kRecipe}};
  if (!sequencer.empty()) info.metadata[kSourceSequencerMetadata] = sequencer;
  return info;
}

TEST(WriteDecisionTest, RecordsTheSourceKeyEncodedAsAValidMetadataValue) {
  EXPECT_EQ(source_id(kSource), "raw/photos/a%20b.jpg");
  const auto metadata = source_metadata(kSource);
  EXPECT_EQ(metadata.at(kSourceEtagMetadata), "etag-2");
  EXPECT_EQ(metadata.at(kSourceKeyMetadata), "raw/photos/a%20b.jpg");
  EXPECT_EQ(metadata.at(kSourceSequencerMetadata), "00000000000000A0");
  EXPECT_EQ(source_metadata(SourceVersion{"raw", "k", "e", ""}).count(kSourceSequencerMetadata),
            0u);
}

TEST(WriteDecisionTest, WritesWhereNothingIs) {
  EXPECT_EQ(decide_write(std::nullopt, kSource, kRecipe), WriteDecision::write);
}

TEST(WriteDecisionTest, TheSameSourceVersionIsUpToDate) {
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-2", "00000000000000A0"), kSource,
                         kRecipe),
            WriteDecision::up_to_date);
}

TEST(WriteDecisionTest, AnOlderVersionIsOverwrittenANewerOneNever) {
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-1", "000000000000009F"), kSource,
                         kRecipe),
            WriteDecision::write);
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-3", "00000000000000A1"), kSource,
                         kRecipe),
            WriteDecision::newer_exists);
}

TEST(WriteDecisionTest, AnUnknownOrderIsWritten) {
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-1", ""), kSource, kRecipe),
            WriteDecision::write);
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-1", "not-hex"), kSource, kRecipe),
            WriteDecision::write);
}

TEST(WriteDecisionTest, AnotherSourceKeyOrAForeignObjectIsACollision) {
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.JPG", "etag-2", "00000000000000A0"), kSource,
                         kRecipe),
            WriteDecision::collision);
  EXPECT_EQ(decide_write(s3::ObjectInfo{"e", 3, "image/jpeg", {}}, kSource, kRecipe),
            WriteDecision::collision);
}

TEST(WriteDecisionTest, AnOutputOfAnEarlierImgpipeWithoutASourceKeyIsOurs) {
  s3::ObjectInfo legacy;
  legacy.metadata = {{kSourceEtagMetadata, "etag-1"}};
  EXPECT_EQ(decide_write(legacy, kSource, kRecipe), WriteDecision::write);
}

TEST(WriteDecisionTest, TheSameVersionMadeByAnotherRecipeIsOutdatedAndRewritten) {
  auto other_recipe = output_of("raw/photos/a%20b.jpg", "etag-2", "00000000000000A0");
  other_recipe.metadata[kRecipeMetadata] = "fedcba9876543210";
  EXPECT_EQ(output_state(other_recipe, kSource, kRecipe), OutputState::outdated);
  EXPECT_EQ(decide_write(other_recipe, kSource, kRecipe), WriteDecision::write);
  auto no_recipe = other_recipe;
  no_recipe.metadata.erase(kRecipeMetadata);
  EXPECT_EQ(output_state(no_recipe, kSource, kRecipe), OutputState::outdated);
}

TEST(WriteDecisionTest, TheSameVersionIsNotComparedBySequencer) {
  // A backfill's event carries a sequencer from the listing (milliseconds),
  // below the real one (nanoseconds): still the same version.
  auto recorded = output_of("raw/photos/a%20b.jpg", "etag-2", "00000000000000A5");
  EXPECT_EQ(output_state(recorded, kSource, kRecipe), OutputState::up_to_date);
  recorded.metadata[kRecipeMetadata] = "fedcba9876543210";
  EXPECT_EQ(output_state(recorded, kSource, kRecipe), OutputState::outdated);
}

TEST(WriteDecisionTest, StatesForBackfill) {
  EXPECT_EQ(output_state(std::nullopt, kSource, kRecipe), OutputState::missing);
  EXPECT_EQ(output_state(output_of("raw/photos/a%20b.jpg", "etag-1", "000000000000009F"), kSource,
                         kRecipe),
            OutputState::stale);
  EXPECT_EQ(output_state(output_of("raw/photos/a%20b.jpg", "etag-3", "00000000000000A1"), kSource,
                         kRecipe),
            OutputState::newer);
  EXPECT_EQ(output_state(s3::ObjectInfo{"e", 3, "image/jpeg", {}}, kSource, kRecipe),
            OutputState::foreign);
  EXPECT_STREQ(output_state_name(OutputState::outdated), "outdated");
}

TEST(WriteDecisionTest, SequencersCompareAsHexadecimalNumbers) {
  EXPECT_EQ(compare_sequencers("0A", "a"), 0);
  EXPECT_EQ(compare_sequencers("00FF", "100"), -1);
  EXPECT_EQ(compare_sequencers("17F9A7C1D2E3B4A5", "17F9A7C1D2E3B4A4"), 1);
  EXPECT_EQ(compare_sequencers("", "1"), std::nullopt);
  EXPECT_EQ(compare_sequencers("12g", "1"), std::nullopt);
}

}  // namespace
}  // namespace imgpipe::pipeline
