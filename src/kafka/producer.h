// A small synchronous Kafka producer: produce() returns once the broker has
// acknowledged the message (acks=all, idempotent), the timeout passed or
// `stop` was requested. Used for the dead-letter topic, `imgpipe dlq replay`
// and by tests that feed the event topic. watermarks() reads how far a
// topic's partitions reach over the same connections (the worker's
// imgpipe_dead_letter_topic_records).
//
// Thread-safety: produce() and watermarks() may be called from several
// threads, at the same time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kafka/connection.h"
#include "kafka/consumer.h"

namespace imgpipe::kafka {

// Where the records of one partition begin and end.
struct PartitionWatermarks {
  std::int32_t partition = 0;
  std::int64_t low = 0;   // offset of the oldest record retained
  std::int64_t high = 0;  // offset the next record will get
};

class Producer {
 public:
  static Result<std::unique_ptr<Producer>> create(const Connection& connection);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Success: the broker stored the message. Failure: kafka_error or timeout
  // (the message may still be stored later: callers that retry must accept
  // a duplicate), cancelled when `stop` was requested while waiting.
  Status produce(const std::string& topic, std::string_view key, std::string_view value,
                 const Headers& headers = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(10),
                 std::stop_token stop = {});

  // The watermarks of every partition of `topic`, in partition order, asked
  // of the partition leaders (two ListOffsets requests per partition).
  // Never creates the topic, whatever the brokers' auto.create.topics says.
  // The partitions are found by asking 0, 1, 2 ... until librdkafka's
  // metadata knows no such partition; librdkafka reports a partition without
  // a leader in the same way, so that one also ends the list: a caller that
  // has seen more partitions before should not trust a shorter answer.
  // Partitions added to the topic show once librdkafka refreshes its metadata
  // (topic.metadata.refresh.interval.ms, 5 minutes).
  // Failure: object_missing when the topic does not exist, timeout when the
  // brokers did not answer within `timeout` (all partitions together),
  // kafka_error for anything else the brokers said.
  Result<std::vector<PartitionWatermarks>> watermarks(const std::string& topic,
                                                      std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace imgpipe::kafka
