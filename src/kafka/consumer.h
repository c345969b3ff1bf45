// The event source: a Kafka consumer-group member delivering bucket events.
//
// EventSource is the narrow interface the pipeline consumes (tests fake it);
// KafkaConsumer implements it over librdkafka's KafkaConsumer with the
// at-least-once recipe for librdkafka 2.0: offsets are stored explicitly
// (enable.auto.offset.store=false) only after the work for a message is done,
// auto-commit sends them, cooperative-sticky assignment, auto.offset.reset
// earliest.
//
// Thread-safety: every method must be called from one thread (the consumer
// loop). The RebalanceListener runs on that thread too, inside poll() or
// close(), before partitions are taken away, so it can finish their work and
// store final offsets.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "kafka/connection.h"
#include "kafka/lag.h"
#include "kafka/watermark.h"

namespace imgpipe::kafka {

// Kafka record headers, in order; names may repeat.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Message {
  TopicPartition partition;
  std::int64_t offset = 0;
  std::string key;
  std::string payload;
  std::int64_t timestamp_ms = -1;  // the record's timestamp; -1 when it has none
  Headers headers;
};

struct PollOutcome {
  std::optional<Message> message;  // empty on timeout or error
  std::optional<Error> error;      // a consumer error worth logging
  bool fatal = false;              // the consumer cannot go on (e.g. fenced static member)
};

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void on_assigned(const std::vector<TopicPartition>& partitions) = 0;
  // `lost`: the partitions already belong to someone else; store nothing.
  virtual void on_revoked(const std::vector<TopicPartition>& partitions, bool lost) = 0;
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual PollOutcome poll(std::chrono::milliseconds timeout) = 0;
  // Marks everything below `next_offset` of the partition as done; committed
  // by the next auto-commit or close(). Fails for an unassigned partition.
  virtual Status store_offset(const TopicPartition& partition, std::int64_t next_offset) = 0;
  // Commits stored offsets and leaves the group. Idempotent.
  virtual Status close() = 0;
  // True once the consumer has joined its group (an assignment, possibly
  // empty, has been received); false again while its assignment is lost,
  // until the next assignment.
  virtual bool joined() const = 0;
  // Stop and restart fetching these assigned partitions. While paused,
  // poll() must still be called (it serves rebalances and keeps the member
  // in its group) and returns no messages of them; messages already fetched
  // are dropped and fetched again after resume(), nothing is lost. Resume
  // only partitions that were paused.
  virtual Status pause(const std::vector<TopicPartition>& partitions) = 0;
  virtual Status resume(const std::vector<TopicPartition>& partitions) = 0;
};

struct ConsumerOptions {
  Connection connection{"127.0.0.1:9092", {}};
  std::string group = "imgpipe";
  std::string topic = "bucket-events";
  std::string client_id = "imgpipe";
  std::string instance_id;  // group.instance.id (static membership) when non-empty
  int session_timeout_ms = 10000;
  int max_poll_interval_ms = 300000;
  std::map<std::string, std::string> extra;  // any other librdkafka property
  // Every statistics_interval_ms (0: never) the lag of the assigned
  // partitions of `topic` (kafka/lag.h), on the thread that calls poll().
  int statistics_interval_ms = 0;
  std::function<void(const ConsumerLag&)> on_lag;
};

class KafkaConsumer final : public EventSource {
 public:
  // Creates the consumer and subscribes to options.topic. `listener` must
  // outlive the consumer.
  static Result<std::unique_ptr<KafkaConsumer>> create(const ConsumerOptions& options,
                                                       RebalanceListener& listener);
  ~KafkaConsumer() override;
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  PollOutcome poll(std::chrono::milliseconds timeout) override;
  Status store_offset(const TopicPartition& partition, std::int64_t next_offset) override;
  Status close() override;
  bool joined() const override { return joined_.load(); }
  Status pause(const std::vector<TopicPartition>& partitions) override;
  Status resume(const std::vector<TopicPartition>& partitions) override;

 private:
  struct Impl;
  explicit KafkaConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> joined_{false};
};

}  // namespace imgpipe::kafka
