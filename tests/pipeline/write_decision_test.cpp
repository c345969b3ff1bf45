#include "pipeline/write_decision.h"

#include <gtest/gtest.h>

#include "pipeline/products.h"

namespace imgpipe::pipeline {
namespace {

const SourceVersion kSource{"raw", "photos/a b.jpg", "etag-2", "00000000000000A0"};

s3::ObjectInfo output_of(const std::string& source_key, const std::string& etag,
                         const std::string& sequencer) {
  s3::ObjectInfo info;
  info.etag = "output-etag";
  info.metadata = {{kSourceEtagMetadata, etag}, {kSourceKeyMetadata, source_key}};
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
  EXPECT_EQ(decide_write(std::nullopt, kSource), WriteDecision::write);
}

TEST(WriteDecisionTest, TheSameSourceVersionIsUpToDate) {
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-2", "00000000000000A0"), kSource),
            WriteDecision::up_to_date);
}

TEST(WriteDecisionTest, AnOlderVersionIsOverwrittenANewerOneNever) {
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-1", "000000000000009F"), kSource),
            WriteDecision::write);
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-3", "00000000000000A1"), kSource),
            WriteDecision::newer_exists);
}

TEST(WriteDecisionTest, AnUnknownOrderIsWritten) {
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-1", ""), kSource),
            WriteDecision::write);
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.jpg", "etag-1", "not-hex"), kSource),
            WriteDecision::write);
}

TEST(WriteDecisionTest, AnotherSourceKeyOrAForeignObjectIsACollision) {
  EXPECT_EQ(decide_write(output_of("raw/photos/a%20b.JPG", "etag-2", "00000000000000A0"), kSource),
            WriteDecision::collision);
  EXPECT_EQ(decide_write(s3::ObjectInfo{"e", 3, "image/jpeg", {}}, kSource),
            WriteDecision::collision);
}

TEST(WriteDecisionTest, AnOutputOfAnEarlierImgpipeWithoutASourceKeyIsOurs) {
  s3::ObjectInfo legacy;
  legacy.metadata = {{kSourceEtagMetadata, "etag-1"}};
  EXPECT_EQ(decide_write(legacy, kSource), WriteDecision::write);
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
