#include "pipeline/dead_letter_probe.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <memory>
#include <stdexcept>
#include <thread>

namespace imgpipe::pipeline {
namespace {

using namespace std::chrono_literals;
using Answer = Result<std::vector<kafka::PartitionWatermarks>>;

// Answers in the order given, then the last one again; counts the reads.
class ScriptedSource {
 public:
  explicit ScriptedSource(std::vector<Answer> answers) : answers_(answers.begin(), answers.end()) {}
  DeadLetterTopicProbe::WatermarkSource source() {
    return [this]() -> Answer {
      ++reads_;
      std::lock_guard lock(mutex_);
      Answer answer = answers_.front();
      if (answers_.size() > 1) answers_.pop_front();
      return answer;
    };
  }
  int reads() const { return reads_.load(); }

 private:
  std::mutex mutex_;
  std::deque<Answer> answers_;
  std::atomic<int> reads_{0};
};

Answer partitions(std::vector<std::pair<std::int64_t, std::int64_t>> low_high) {
  std::vector<kafka::PartitionWatermarks> out;
  for (std::size_t i = 0; i < low_high.size(); ++i) {
    out.push_back({static_cast<std::int32_t>(i), low_high[i].first, low_high[i].second});
  }
  return out;
}

const Answer kMissing = make_error(Reason::object_missing, "topic dlq does not exist");
const Answer kNoAnswer = make_error(Reason::timeout, "watermarks of dlq: no answer in time");

// The sample line of the gauge in /metrics, or "" when it has none.
std::string sample(const observe::Metrics& metrics) {
  const std::string text = metrics.render();
  const std::string name = "\nimgpipe_dead_letter_topic_records ";
  const auto at = text.find(name);
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(DeadLetterTopicProbe, ExportsHighMinusLowSummedOverThePartitions) {
  observe::Metrics metrics;
  ScriptedSource source({partitions({{0, 3}, {5, 9}, {7, 7}})});
  DeadLetterTopicProbe probe(metrics, "dlq", source.source());
  EXPECT_TRUE(probe.refresh());
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 7");
}

TEST(DeadLetterTopicProbe, HasNoSampleBeforeItsFirstSuccessfulRead) {
  observe::Metrics metrics;
  ScriptedSource source({kMissing});
  DeadLetterTopicProbe probe(metrics, "dlq", source.source());
  EXPECT_EQ(sample(metrics), "") << "nothing read yet";
  EXPECT_FALSE(probe.refresh());
  EXPECT_EQ(sample(metrics), "") << "a missing topic is not 0 records";
  const std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE imgpipe_dead_letter_topic_records gauge\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# HELP imgpipe_dead_letter_topic_records Records the dead-letter topic "
                      "retains now"),
            std::string::npos)
      << text;
}

TEST(DeadLetterTopicProbe, KeepsTheLastValueWhileTheTopicIsMissingOrTheBrokersDoNotAnswer) {
  observe::Metrics metrics;
  ScriptedSource source({partitions({{0, 5}}), kNoAnswer, kMissing, partitions({{3, 5}})});
  DeadLetterTopicProbe probe(metrics, "dlq", source.source());
  EXPECT_TRUE(probe.refresh());
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 5");
  EXPECT_FALSE(probe.refresh());
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 5");
  EXPECT_FALSE(probe.refresh());
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 5");
  EXPECT_TRUE(probe.refresh());
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 2") << "retention took 3";
  EXPECT_EQ(source.reads(), 4);
}

// Kafka never takes partitions away: a shorter list means a partition
// without a leader ended it early, and the sum would drop for nothing.
TEST(DeadLetterTopicProbe, DistrustsFewerPartitionsUntilTheTopicWasFoundMissing) {
  observe::Metrics metrics;
  ScriptedSource source({partitions({{0, 2}, {0, 3}, {0, 4}}), partitions({{0, 2}}),
                         partitions({{0, 2}, {0, 3}, {0, 4}, {0, 1}}), kMissing,
                         partitions({{0, 1}})});
  DeadLetterTopicProbe probe(metrics, "dlq", source.source());
  EXPECT_TRUE(probe.refresh());
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 9");
  EXPECT_FALSE(probe.refresh());
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 9");
  EXPECT_TRUE(probe.refresh()) << "a partition was added";
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 10");
  EXPECT_FALSE(probe.refresh());
  EXPECT_TRUE(probe.refresh()) << "recreated with one partition";
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 1");
}

// Log lines of the probe at warn or above, and all of them, while alive.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(spdlog::default_logger()),
        sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100)) {
    auto logger = std::make_shared<spdlog::logger>("captured", sink_);
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  int count(const std::string& level) const {
    int lines = 0;
    for (const auto& line : sink_->last_formatted()) lines += line.rfind(level + " ", 0) == 0;
    return lines;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

TEST(DeadLetterTopicProbe, WarnsOnceWhileReadsKeepFailingAndSaysWhenTheyWorkAgain) {
  observe::Metrics metrics;
  ScriptedSource source({kNoAnswer, kNoAnswer, kMissing, partitions({{0, 1}}), kNoAnswer});
  DeadLetterTopicProbe probe(metrics, "dlq", source.source());
  CapturedLog log;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(probe.refresh());
  EXPECT_EQ(log.count("warning"), 1);
  EXPECT_EQ(log.count("debug"), 2);
  EXPECT_TRUE(probe.refresh());
  EXPECT_EQ(log.count("info"), 1) << "readable again";
  EXPECT_FALSE(probe.refresh());
  EXPECT_EQ(log.count("warning"), 2) << "a new run of failures";
}

TEST(DeadLetterTopicProbe, ASourceThatThrowsIsAFailedReadNotADeadThread) {
  observe::Metrics metrics;
  std::atomic<int> reads{0};
  DeadLetterTopicProbe probe(metrics, "dlq", [&]() -> Answer {
    if (++reads == 1) throw std::runtime_error("boom");
    return partitions({{0, 4}});
  });
  EXPECT_FALSE(probe.refresh());
  probe.start(1ms);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (sample(metrics).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 4");
}

TEST(DeadLetterTopicProbe, RefreshesInTheBackgroundUntilDestroyed) {
  observe::Metrics metrics;
  ScriptedSource source({partitions({{0, 1}}), partitions({{0, 2}}), partitions({{0, 3}})});
  {
    DeadLetterTopicProbe probe(metrics, "dlq", source.source());
    probe.start(5ms);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (source.reads() < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_GE(source.reads(), 3);
  }
  EXPECT_EQ(sample(metrics), "imgpipe_dead_letter_topic_records 3");
  const int reads = source.reads();
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(source.reads(), reads) << "no read after destruction";
}

}  // namespace
}  // namespace imgpipe::pipeline
