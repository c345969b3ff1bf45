#include "pipeline/lag_recorder.h"

#include <gtest/gtest.h>

namespace imgpipe::pipeline {
namespace {

kafka::PartitionLag partition(int number, std::int64_t committed, std::int64_t lag) {
  return kafka::PartitionLag{number, committed + lag, committed, lag};
}

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(LagRecorder, ExportsEachHeldPartitionAndTheTotalAndDropsPartitionsGivenUp) {
  observe::Metrics metrics;
  LagRecorder record(metrics, [] { return 1000.0; });
  record(kafka::ConsumerLag{{partition(0, 10, 5), partition(3, 7, 2)}});
  std::string text = metrics.render();
  EXPECT_TRUE(has(text, "imgpipe_partition_lag{partition=\"0\"} 5")) << text;
  EXPECT_TRUE(has(text, "imgpipe_partition_lag{partition=\"3\"} 2")) << text;
  EXPECT_TRUE(has(text, "imgpipe_consumer_lag 7")) << text;

  record(kafka::ConsumerLag{{partition(0, 10, 6)}});  // partition 3 went to another worker
  text = metrics.render();
  EXPECT_TRUE(has(text, "imgpipe_partition_lag{partition=\"0\"} 6")) << text;
  EXPECT_EQ(text.find("imgpipe_partition_lag{partition=\"3\"}"), std::string::npos) << text;
  EXPECT_TRUE(has(text, "imgpipe_consumer_lag 6")) << text;
}

TEST(LagRecorder, MarksProgressWhenCommittedOffsetsAdvanceOrNothingIsLeft) {
  observe::Metrics metrics;
  double now = 1000;
  LagRecorder record(metrics, [&] { return now; });
  const auto progress = [&] { return metrics.commit_progress.unlabelled().value(); };

  record(kafka::ConsumerLag{{partition(0, 10, 5)}});
  EXPECT_EQ(progress(), 1000) << "the first report is the baseline";
  now = 1060;
  record(kafka::ConsumerLag{{partition(0, 10, 8)}});
  EXPECT_EQ(progress(), 1000) << "lag grew, nothing committed: no progress";
  now = 1120;
  record(kafka::ConsumerLag{{partition(0, 12, 6)}});
  EXPECT_EQ(progress(), 1120) << "committed offset advanced";
  now = 1180;
  record(kafka::ConsumerLag{{partition(0, 12, 6)}});
  EXPECT_EQ(progress(), 1120);
  now = 1240;
  record(kafka::ConsumerLag{{partition(0, 18, 0)}});
  EXPECT_EQ(progress(), 1240);
  now = 1300;
  record(kafka::ConsumerLag{{partition(0, 18, 0)}});
  EXPECT_EQ(progress(), 1300) << "idle with nothing to do is not stuck";
}

}  // namespace
}  // namespace imgpipe::pipeline
