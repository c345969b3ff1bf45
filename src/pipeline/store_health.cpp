#include "pipeline/store_health.h"

#include "observe/metrics.h"

namespace imgpipe::pipeline {

ProbedStoreHealth::ProbedStoreHealth(s3::ObjectStore& probe_store, std::string bucket,
                                     std::chrono::milliseconds fresh_for,
                                     std::chrono::milliseconds retry_after)
    : store_(probe_store),
      bucket_(std::move(bucket)),
      fresh_for_(fresh_for),
      retry_after_(retry_after) {}

bool ProbedStoreHealth::reachable(std::string* detail) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  const auto age = now - checked_at_;
  if (!checked_ || age > (reachable_ ? fresh_for_ : retry_after_)) {
    auto exists = store_.bucket_exists(bucket_);
    reachable_ = exists.ok() && exists.value();
    detail_ = exists.ok() ? (exists.value() ? "" : "bucket " + bucket_ + " does not exist")
                          : exists.error().message;
    checked_at_ = std::chrono::steady_clock::now();
    checked_ = true;
    observe::Metrics::global().store_reachable.unlabelled().set(reachable_ ? 1 : 0);
  }
  if (detail != nullptr) *detail = detail_;
  return reachable_;
}

}  // namespace imgpipe::pipeline
