#include "kafka/watermark.h"

#include <gtest/gtest.h>

namespace imgpipe::kafka {
namespace {

const TopicPartition kP0{"bucket-events", 0};
const TopicPartition kP1{"bucket-events", 1};

TEST(OffsetWatermark, AdvancesOnlyOverContiguousCompletedOffsets) {
  OffsetWatermark watermark;
  watermark.assign(kP0);
  auto t10 = watermark.begin(kP0, 10);
  auto t11 = watermark.begin(kP0, 11);
  auto t12 = watermark.begin(kP0, 12);
  ASSERT_TRUE(t10 && t11 && t12);

  EXPECT_EQ(watermark.complete(*t12), std::nullopt) << "10 and 11 are still running";
  EXPECT_EQ(watermark.complete(*t11), std::nullopt) << "10 is still running";
  EXPECT_EQ(watermark.complete(*t10), 13) << "10, 11, 12 done: everything below 13 is safe";
  EXPECT_EQ(watermark.in_flight(kP0), 0u);
}

TEST(OffsetWatermark, ReportsEachStepWhenCompletedInOrder) {
  OffsetWatermark watermark;
  watermark.assign(kP0);
  auto t0 = watermark.begin(kP0, 0);
  auto t1 = watermark.begin(kP0, 1);
  EXPECT_EQ(watermark.complete(*t0), 1);
  EXPECT_EQ(watermark.complete(*t1), 2);
}

TEST(OffsetWatermark, KeepsPartitionsIndependent) {
  OffsetWatermark watermark;
  watermark.assign(kP0);
  watermark.assign(kP1);
  auto a = watermark.begin(kP0, 5);
  auto b = watermark.begin(kP1, 7);
  EXPECT_EQ(watermark.complete(*b), 8);
  EXPECT_EQ(watermark.in_flight(kP0), 1u);
  EXPECT_EQ(watermark.in_flight_total(), 1u);
  EXPECT_EQ(watermark.complete(*a), 6);
}

TEST(OffsetWatermark, RefusesMessagesOfUnassignedPartitions) {
  OffsetWatermark watermark;
  EXPECT_FALSE(watermark.begin(kP0, 1).has_value());
}

TEST(OffsetWatermark, IgnoresCompletionsFromAnEarlierAssignment) {
  OffsetWatermark watermark;
  watermark.assign(kP0);
  auto stale = watermark.begin(kP0, 3);
  watermark.revoke(kP0);
  watermark.assign(kP0);
  auto fresh = watermark.begin(kP0, 3);
  ASSERT_TRUE(stale && fresh);
  EXPECT_EQ(watermark.complete(*stale), std::nullopt) << "same offset, older epoch";
  EXPECT_EQ(watermark.in_flight(kP0), 1u);
  EXPECT_EQ(watermark.complete(*fresh), 4);
}

TEST(OffsetWatermark, ForgetsWorkOfARevokedPartition) {
  OffsetWatermark watermark;
  watermark.assign(kP0);
  auto ticket = watermark.begin(kP0, 1);
  watermark.revoke(kP0);
  EXPECT_EQ(watermark.complete(*ticket), std::nullopt);
  EXPECT_EQ(watermark.in_flight_total(), 0u);
  EXPECT_TRUE(watermark.assigned().empty());
}

TEST(OffsetWatermark, IgnoresADoubleCompletion) {
  OffsetWatermark watermark;
  watermark.assign(kP0);
  auto t0 = watermark.begin(kP0, 0);
  EXPECT_EQ(watermark.complete(*t0), 1);
  EXPECT_EQ(watermark.complete(*t0), std::nullopt);
}

}  // namespace
}  // namespace imgpipe::kafka
