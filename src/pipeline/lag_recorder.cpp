#include "pipeline/lag_recorder.h"

#include <algorithm>

namespace imgpipe::pipeline {

void LagRecorder::operator()(const kafka::ConsumerLag& lag) {
  std::set<std::string> held;
  std::int64_t committed_sum = 0;
  for (const auto& partition : lag.partitions) {
    const std::string label = std::to_string(partition.partition);
    held.insert(label);
    metrics_->partition_lag.with(label).set(static_cast<double>(partition.lag));
    committed_sum += std::max<std::int64_t>(0, partition.committed_offset);
  }
  for (const auto& label : held_) {
    if (held.count(label) == 0) metrics_->partition_lag.remove(label);
  }
  held_ = std::move(held);
  const std::int64_t total = lag.total();
  metrics_->consumer_lag.unlabelled().set(static_cast<double>(total));
  // The first report sets the baseline; a changed set of partitions changes
  // the sum too, which is counted as progress (a new start).
  if (committed_sum != committed_sum_ || total == 0) {
    metrics_->commit_progress.unlabelled().set(now_());
  }
  committed_sum_ = committed_sum;
}

}  // namespace imgpipe::pipeline
