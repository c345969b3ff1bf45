// The Kafka component against the real broker of the local stack.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "integration/stack.h"
#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace imgpipe::integration {
namespace {

using namespace std::chrono_literals;

class RecordingListener final : public kafka::RebalanceListener {
 public:
  void on_assigned(const std::vector<kafka::TopicPartition>& partitions) override {
    for (const auto& partition : partitions) owned.insert(partition.partition);
  }
  void on_revoked(const std::vector<kafka::TopicPartition>& partitions, bool lost) override {
    for (const auto& partition : partitions) {
      owned.erase(partition.partition);
      revoked.push_back({partition.partition, lost});
    }
  }
  std::set<int> owned;
  std::vector<std::pair<int, bool>> revoked;
};

kafka::ConsumerOptions options_for(const std::string& topic, const std::string& group) {
  kafka::ConsumerOptions options;
  options.connection = stack_kafka();
  options.topic = topic;
  options.group = group;
  options.session_timeout_ms = 6000;
  return options;
}

std::string fresh_topic(int partitions) {
  const std::string topic = unique_name("it-topic");
  auto created = kafka::ensure_topic(stack_kafka(), {topic, partitions, 1});
  EXPECT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created.ok() && created->created);
  return topic;
}

TEST(KafkaAdmin, EnsureTopicCreatesOnceAndThenReportsTheExistingTopic) {
  const std::string topic = fresh_topic(3);
  auto again = kafka::ensure_topic(stack_kafka(), {topic, 5, 1});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->partitions, 3) << "an existing topic is never changed";
}

TEST(KafkaAdmin, ReportsAnUnreachableBroker) {
  auto state = kafka::topic_partitions(
      kafka::Connection{"127.0.0.1:" + std::to_string(free_port()), {}}, "x", 2s);
  ASSERT_FALSE(state.ok());
  EXPECT_TRUE(is_transient(state.error().reason)) << state.error().message;
}

TEST(KafkaProducer, ReadsTheWatermarksOfEveryPartitionAndNeverCreatesAMissingTopic) {
  const kafka::Connection connection{stack_brokers(), {}};
  const std::string topic = fresh_topic(3);
  auto producer = kafka::Producer::create(connection);
  ASSERT_TRUE(producer.ok()) << producer.error().message;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(producer.value()->produce(topic, "key-" + std::to_string(i), "value").ok());
  }
  auto marks = producer.value()->watermarks(topic, 10s);
  ASSERT_TRUE(marks.ok()) << marks.error().message;
  ASSERT_EQ(marks->size(), 3u);
  std::int64_t records = 0;
  for (std::size_t i = 0; i < marks->size(); ++i) {
    EXPECT_EQ((*marks)[i].partition, static_cast<std::int32_t>(i));
    EXPECT_EQ((*marks)[i].low, 0);
    records += (*marks)[i].high - (*marks)[i].low;
  }
  EXPECT_EQ(records, 5);

  const std::string missing = unique_name("it-missing");
  const auto started = std::chrono::steady_clock::now();
  auto none = producer.value()->watermarks(missing, 10s);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().reason, Reason::object_missing) << none.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s)
      << "known to be missing, not waited for";
  auto partitions = kafka::topic_partitions(connection, missing);
  ASSERT_FALSE(partitions.ok());
  EXPECT_EQ(partitions.error().reason, Reason::object_missing) << "asking created the topic";
}

TEST(KafkaProducer, ReportsATimeoutWhenNoBrokerAnswersTheWatermarkQuery) {
  auto producer =
      kafka::Producer::create(kafka::Connection{"127.0.0.1:" + std::to_string(free_port()), {}});
  ASSERT_TRUE(producer.ok()) << producer.error().message;
  const auto started = std::chrono::steady_clock::now();
  auto marks = producer.value()->watermarks("bucket-events", 1s);
  ASSERT_FALSE(marks.ok());
  EXPECT_TRUE(is_transient(marks.error().reason)) << marks.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(KafkaConsumer, ResumesAfterACloseExactlyAtTheStoredOffset) {
  const std::string topic = fresh_topic(1);
  const std::string group = unique_name("it-group");
  auto producer = kafka::Producer::create(stack_kafka());
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(producer.value()->produce(topic, "k", "message " + std::to_string(i)).ok());
  }

  {
    RecordingListener listener;
    auto consumer = kafka::KafkaConsumer::create(options_for(topic, group), listener);
    ASSERT_TRUE(consumer.ok()) << consumer.error().message;
    std::vector<kafka::Message> received;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (received.size() < 10 && std::chrono::steady_clock::now() < deadline) {
      auto outcome = consumer.value()->poll(200ms);
      if (outcome.message) received.push_back(*outcome.message);
    }
    ASSERT_EQ(received.size(), 10u);
    EXPECT_TRUE(consumer.value()->joined());
    EXPECT_EQ(received.front().payload, "message 0") << "a new group starts at the earliest offset";
    // Only the first 4 are "done".
    ASSERT_TRUE(consumer.value()->store_offset(received[3].partition, received[3].offset + 1).ok());
    ASSERT_TRUE(consumer.value()->close().ok());
  }

  RecordingListener listener;
  auto consumer = kafka::KafkaConsumer::create(options_for(topic, group), listener);
  ASSERT_TRUE(consumer.ok());
  std::optional<kafka::Message> first;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!first && std::chrono::steady_clock::now() < deadline)
    first = consumer.value()->poll(200ms).message;
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->payload, "message 4");
  (void)consumer.value()->close();
}

// The worker pauses its partitions while saturated and keeps polling: with
// the real broker nothing arrives while paused, and after resume every
// message comes, none lost (librdkafka drops prefetched ones on pause and
// fetches them again).
TEST(KafkaConsumer, DeliversNothingWhilePausedAndEverythingAfterResume) {
  const std::string topic = fresh_topic(1);
  auto producer = kafka::Producer::create(stack_kafka());
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(producer.value()->produce(topic, "k", "message " + std::to_string(i)).ok());
  }
  RecordingListener listener;
  auto consumer =
      kafka::KafkaConsumer::create(options_for(topic, unique_name("it-group")), listener);
  ASSERT_TRUE(consumer.ok()) << consumer.error().message;
  std::set<std::int64_t> received;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (received.empty() && std::chrono::steady_clock::now() < deadline) {
    if (auto outcome = consumer.value()->poll(200ms); outcome.message) {
      received.insert(outcome.message->offset);
    }
  }
  ASSERT_EQ(received.size(), 1u);
  const std::vector<kafka::TopicPartition> partitions{{topic, 0}};
  ASSERT_TRUE(consumer.value()->pause(partitions).ok());
  int while_paused = 0;
  for (int i = 0; i < 15; ++i) {
    if (auto outcome = consumer.value()->poll(100ms); outcome.message) {
      ++while_paused;
      received.insert(outcome.message->offset);
    }
  }
  // At most what was already in the local queue when pause() was called.
  EXPECT_LE(while_paused, 1) << "paused, yet messages kept coming";
  ASSERT_TRUE(consumer.value()->resume(partitions).ok());
  deadline = std::chrono::steady_clock::now() + 30s;
  while (received.size() < 20 && std::chrono::steady_clock::now() < deadline) {
    if (auto outcome = consumer.value()->poll(200ms); outcome.message) {
      received.insert(outcome.message->offset);
    }
  }
  EXPECT_EQ(received.size(), 20u) << "a message was lost across pause/resume";
  (void)consumer.value()->close();
}

// The worker's pattern under a burst (what versitygw's events look like):
// messages spread over six partitions while they are produced, the consumer
// pausing every assigned partition whenever eight are in flight and resuming
// at four, hundreds of times. Every offset must arrive.
TEST(KafkaConsumer, LosesNoMessageAcrossManyPauseResumeCyclesDuringABurst) {
  const std::string topic = fresh_topic(6);
  constexpr int kProducers = 4;
  constexpr int kEach = 150;
  RecordingListener listener;
  auto consumer =
      kafka::KafkaConsumer::create(options_for(topic, unique_name("it-group")), listener);
  ASSERT_TRUE(consumer.ok()) << consumer.error().message;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (listener.owned.size() < 6 && std::chrono::steady_clock::now() < deadline) {
    (void)consumer.value()->poll(100ms);
  }
  ASSERT_EQ(listener.owned.size(), 6u);
  std::atomic<int> produced{0};
  std::vector<std::jthread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      auto producer = kafka::Producer::create(stack_kafka());
      if (!producer.ok()) return;
      for (int i = 0; i < kEach; ++i) {
        const std::string key = "k" + std::to_string(p) + "-" + std::to_string(i);
        if (producer.value()->produce(topic, key, "m").ok()) ++produced;
      }
    });
  }
  std::set<std::pair<int, std::int64_t>> received;
  std::deque<std::chrono::steady_clock::time_point> in_flight;
  bool paused = false;
  int cycles = 0;
  deadline = std::chrono::steady_clock::now() + 120s;
  while (received.size() < kProducers * kEach && std::chrono::steady_clock::now() < deadline) {
    const auto now = std::chrono::steady_clock::now();
    while (!in_flight.empty() && in_flight.front() <= now) in_flight.pop_front();
    std::vector<kafka::TopicPartition> owned;
    for (int partition : listener.owned) owned.push_back({topic, partition});
    if (!paused && in_flight.size() >= 8) {
      ASSERT_TRUE(consumer.value()->pause(owned).ok());
      paused = true;
      ++cycles;
    } else if (paused && in_flight.size() <= 4) {
      ASSERT_TRUE(consumer.value()->resume(owned).ok());
      paused = false;
    }
    auto outcome = consumer.value()->poll(paused ? 0ms : 20ms);
    if (outcome.message) {
      received.insert({outcome.message->partition.partition, outcome.message->offset});
      const auto start = in_flight.empty() ? now : in_flight.back();
      in_flight.push_back(start + 2ms);
    }
    if (paused) std::this_thread::sleep_for(1ms);
  }
  producers.clear();
  EXPECT_EQ(produced.load(), kProducers * kEach);
  EXPECT_EQ(received.size(), static_cast<std::size_t>(kProducers * kEach))
      << "after " << cycles << " pause/resume cycles";
  std::map<int, std::int64_t> next;
  for (const auto& [partition, offset] : received) {
    if (next.count(partition) && offset != next[partition]) {
      ADD_FAILURE() << "partition " << partition << ": offsets " << next[partition] << " to "
                    << offset - 1 << " never arrived";
    }
    next[partition] = offset + 1;
  }
  (void)consumer.value()->close();
}

TEST(KafkaConsumer, HandsPartitionsToASecondMemberThroughACooperativeRevoke) {
  const std::string topic = fresh_topic(4);
  const std::string group = unique_name("it-group");
  RecordingListener first_listener, second_listener;
  auto first = kafka::KafkaConsumer::create(options_for(topic, group), first_listener);
  ASSERT_TRUE(first.ok());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (first_listener.owned.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    (void)first.value()->poll(100ms);
  }
  ASSERT_EQ(first_listener.owned.size(), 4u);

  auto second = kafka::KafkaConsumer::create(options_for(topic, group), second_listener);
  ASSERT_TRUE(second.ok());
  while ((second_listener.owned.empty() || first_listener.owned.size() == 4) &&
         std::chrono::steady_clock::now() < deadline + 30s) {
    (void)first.value()->poll(50ms);
    (void)second.value()->poll(50ms);
  }
  EXPECT_EQ(first_listener.owned.size() + second_listener.owned.size(), 4u);
  EXPECT_FALSE(second_listener.owned.empty());
  ASSERT_FALSE(first_listener.revoked.empty());
  for (const auto& [partition, lost] : first_listener.revoked) {
    EXPECT_FALSE(lost) << "partition " << partition << " was handed over, not lost";
    EXPECT_TRUE(second_listener.owned.count(partition)) << partition;
  }
  (void)second.value()->close();
  (void)first.value()->close();
}

}  // namespace
}  // namespace imgpipe::integration
