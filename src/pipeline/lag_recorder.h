// LagRecorder: turns the consumer's lag reports (kafka/lag.h) into the
// metrics an operator alerts on: imgpipe_partition_lag per partition held
// now (series of partitions given up are removed), imgpipe_consumer_lag, and
// imgpipe_last_commit_progress_timestamp_seconds, set whenever the committed
// offsets moved on or nothing was left to do, so that "no progress for ten
// minutes while lag > 0" is one expression.
//
// Thread-safety: none; the consumer calls it from its poll thread. The
// metrics it writes are thread-safe.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <set>
#include <string>

#include "kafka/lag.h"
#include "observe/metrics.h"

namespace imgpipe::pipeline {

class LagRecorder {
 public:
  using WallClock = std::function<double()>;  // Unix time in seconds
  explicit LagRecorder(
      observe::Metrics& metrics,
      WallClock now = [] { return static_cast<double>(std::time(nullptr)); })
      : metrics_(&metrics), now_(std::move(now)) {}

  void operator()(const kafka::ConsumerLag& lag);

 private:
  observe::Metrics* metrics_;
  WallClock now_;
  std::set<std::string> held_;  // partitions with a series
  std::int64_t committed_sum_ = -1;
};

}  // namespace imgpipe::pipeline
