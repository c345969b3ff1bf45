// Regression test for the first `make test` on a new machine failing with
// "Broker: Not coordinator": a just-formatted broker answers ApiVersions
// before its group coordinator can serve commits. `stack.sh` must report
// Kafka as up only once a consumer group can join and commit, so that the
// first commit right after it returns succeeds at the first try.
//
// Starts a second broker of its own (fresh data folder, free ports) and
// removes it at the end; the stack's main broker is not touched.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "integration/stack.h"
#include "kafka/admin.h"
#include "support/process.h"

namespace imgpipe::integration {
namespace {

class FreshBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "imgpipe-fresh-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    stack_dir_ = pattern;
    port_ = free_port();
    env_ = {{"STACK_DIR", stack_dir_},
            {"KAFKA_PORT", std::to_string(port_)},
            {"KAFKA_CONTROLLER_PORT", std::to_string(free_port())}};
  }
  void TearDown() override {
    std::string output;
    testing_support::run_command({"/bin/bash", script(), "clean"}, env_, output);
    std::filesystem::remove_all(stack_dir_);
  }
  static std::string script() {
    return std::string(IMGPIPE_SOURCE_DIR) + "/scripts/stack/stack.sh";
  }
  std::string brokers() const { return "127.0.0.1:" + std::to_string(port_); }

  std::string stack_dir_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
};

// What start_group_at_end does: commit for a group that never joined.
RdKafka::ErrorCode commit_without_joining(const std::string& brokers, const std::string& topic) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, error);
  conf->set("group.id", unique_name("fresh-commit"), error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) return RdKafka::ERR__FAIL;
  std::vector<RdKafka::TopicPartition*> offsets{RdKafka::TopicPartition::create(topic, 0, 0)};
  const auto committed = consumer->commitSync(offsets);
  RdKafka::TopicPartition::destroy(offsets);
  consumer->close();
  return committed;
}

TEST_F(FreshBroker, ConsumerGroupsWorkTheMomentTheStackSaysKafkaIsUp) {
  std::string output;
  ASSERT_EQ(testing_support::run_command({"/bin/bash", script(), "kafka-up"}, env_, output), 0)
      << output;
  ASSERT_TRUE(std::filesystem::exists(stack_dir_ + "/kafka/data/meta.properties"))
      << "the broker was formatted in the test's own folder";

  const std::string topic = unique_name("fresh");
  auto created = kafka::ensure_topic(kafka::Connection{brokers(), {}}, {topic, 2, 1});
  ASSERT_TRUE(created.ok()) << created.error().message;

  const auto committed = commit_without_joining(brokers(), topic);
  EXPECT_EQ(committed, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(committed);
  EXPECT_EQ(group_round_trip(brokers(), topic, unique_name("fresh-group")), "");
}

TEST(KafkaRetry, RetriesCoordinatorErrorsAndStopsAtOtherErrors) {
  int calls = 0;
  const auto result = retry_kafka([&] {
    ++calls;
    return calls < 3 ? RdKafka::ERR_NOT_COORDINATOR : RdKafka::ERR_NO_ERROR;
  });
  EXPECT_EQ(result, RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(calls, 3);

  calls = 0;
  EXPECT_EQ(retry_kafka([&] {
              ++calls;
              return RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED;
            }),
            RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED);
  EXPECT_EQ(calls, 1) << "a permanent error is returned at once";
}

TEST(KafkaRetry, GivesUpAfterTheTimeout) {
  int calls = 0;
  EXPECT_EQ(retry_kafka(
                [&] {
                  ++calls;
                  return RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS;
                },
                std::chrono::milliseconds(600)),
            RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS);
  EXPECT_GE(calls, 2);
  EXPECT_LE(calls, 5);
}

}  // namespace
}  // namespace imgpipe::integration
