// Lag from librdkafka's statistics. The data file is what librdkafka 2.0.2
// sent a consumer of the local stack's topic (6 partitions) that had
// committed offset 5 of partition 5 only; lag there is the high watermark
// minus the committed offset, elsewhere the high minus the low watermark.
#include "kafka/lag.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace imgpipe::kafka {
namespace {

std::string captured_statistics() {
  std::ifstream in(IMGPIPE_KAFKA_TEST_DATA "/consumer-statistics.json");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ConsumerLag, IsTheHighWatermarkMinusTheCommittedOffsetPerAssignedPartition) {
  auto lag = lag_from_statistics(captured_statistics(), "bucket-events");
  ASSERT_TRUE(lag.ok()) << lag.error().message;
  ASSERT_EQ(lag->partitions.size(), 6u) << "partition -1 (librdkafka's own) is left out";
  const std::int64_t high[] = {4, 7, 11, 16, 12, 14};
  for (int p = 0; p < 6; ++p) {
    EXPECT_EQ(lag->partitions[p].partition, p);
    EXPECT_EQ(lag->partitions[p].end_offset, high[p]);
  }
  EXPECT_EQ(lag->partitions[5].committed_offset, 5);
  EXPECT_EQ(lag->partitions[5].lag, 9);
  EXPECT_EQ(lag->partitions[0].committed_offset, -1) << "nothing committed";
  EXPECT_EQ(lag->partitions[0].lag, 4) << "counted from the low watermark, 0";
  EXPECT_EQ(lag->total(), 4 + 7 + 11 + 16 + 12 + 9);
}

TEST(ConsumerLag, IsEmptyForATopicTheConsumerHasNotFetched) {
  auto lag = lag_from_statistics(captured_statistics(), "another-topic");
  ASSERT_TRUE(lag.ok());
  EXPECT_TRUE(lag->partitions.empty());
  EXPECT_EQ(lag->total(), 0);
}

TEST(ConsumerLag, LeavesOutPartitionsNotAssignedOrWithoutAHighWatermark) {
  const std::string statistics = R"({"topics":{"t":{"partitions":{
    "0":{"partition":0,"desired":false,"hi_offset":10,"committed_offset":2},
    "1":{"partition":1,"desired":true,"hi_offset":-1001,"committed_offset":-1001},
    "2":{"partition":2,"desired":true,"hi_offset":30,"lo_offset":20,"committed_offset":-1001}}}}})";
  auto lag = lag_from_statistics(statistics, "t");
  ASSERT_TRUE(lag.ok());
  ASSERT_EQ(lag->partitions.size(), 1u);
  EXPECT_EQ(lag->partitions[0].partition, 2);
  EXPECT_EQ(lag->partitions[0].lag, 10) << "from the low watermark: older records are gone";
}

TEST(ConsumerLag, RefusesWhatIsNotLibrdkafkaStatisticsWithAReason) {
  for (const std::string bad : {"", "not json", "[]", "{\"name\":\"x\"}",
                                R"({"topics":{"t":{"partitions":{"0":{"partition":"zero"}}}}})"}) {
    auto lag = lag_from_statistics(bad, "t");
    ASSERT_FALSE(lag.ok()) << bad;
    EXPECT_EQ(lag.error().reason, Reason::kafka_error) << bad;
  }
}

}  // namespace
}  // namespace imgpipe::kafka
