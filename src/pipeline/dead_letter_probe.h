// DeadLetterTopicProbe: how many records the dead-letter topic retains, as
// imgpipe_dead_letter_topic_records: the sum over its partitions of high
// minus low watermark. Retention lowers it, so it is what is waiting for a
// person now, not how many dead letters were ever written (that is
// imgpipe_dead_lettered_total, per worker).
//
// It reads the watermarks on a thread of its own, every interval, through an
// injected WatermarkSource (the worker passes the dead-letter producer's
// Producer::watermarks with a timeout; tests pass a function). Not on the
// consumer's poll thread, where the lag metrics are made: a broker that does
// not answer would hold up polling, and with it the consume loop, for the
// whole timeout. The image workers never wait for it either.
//
// A read that fails (topic missing, brokers unreachable or slow) leaves the
// gauge at what the last successful read found, or without a sample before
// the first one; the first failure of a run of failures is logged at warn,
// the others at debug, the recovery at info. An answer with fewer partitions
// than a read before found is such a failure too (Kafka never takes
// partitions away: a partition without a leader ended the list early, see
// Producer::watermarks), until the topic is found missing: one recreated
// with fewer partitions is then believed.
//
// Thread-safety: refresh() runs one read at a time and may be called from
// any thread; the probe's own thread calls it once start() ran. The gauge is
// thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "kafka/producer.h"
#include "observe/metrics.h"

namespace imgpipe::pipeline {

class DeadLetterTopicProbe {
 public:
  using WatermarkSource = std::function<Result<std::vector<kafka::PartitionWatermarks>>()>;

  // `topic` only names the topic in log lines; `source` reads it.
  DeadLetterTopicProbe(observe::Metrics& metrics, std::string topic, WatermarkSource source);
  // Stops the thread; waits for a read under way (at most the source's timeout).
  ~DeadLetterTopicProbe();
  DeadLetterTopicProbe(const DeadLetterTopicProbe&) = delete;
  DeadLetterTopicProbe& operator=(const DeadLetterTopicProbe&) = delete;

  // Reads the watermarks now and waits for the answer. True when the gauge
  // was set, false when the read failed and the gauge kept its value. An
  // exception from the source counts as a failed read.
  bool refresh();
  // Refreshes now and then every `interval` on a thread of its own, until
  // destruction. Call once.
  void start(std::chrono::milliseconds interval);

 private:
  void failed(const Error& error);

  observe::Metrics& metrics_;
  std::string topic_;
  WatermarkSource source_;
  std::mutex mutex_;  // one read at a time; guards the state below
  std::size_t partitions_seen_ = 0;
  bool failing_ = false;
  std::jthread thread_;  // last: stopped and joined before the members above go
};

}  // namespace imgpipe::pipeline
