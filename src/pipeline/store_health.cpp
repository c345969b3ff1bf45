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
  const auto answer = [&] {
    std::lock_guard lock(mutex_);
    if (detail != nullptr) *detail = detail_;
    return reachable_;
  };
  std::unique_lock probing(probe_mutex_, std::try_to_lock);
  if (!probing.owns_lock()) return answer();  // someone is asking the store right now
  {
    std::lock_guard lock(mutex_);
    const auto age = std::chrono::steady_clock::now() - checked_at_;
    if (checked_ && age <= (reachable_ ? fresh_for_ : retry_after_)) {
      if (detail != nullptr) *detail = detail_;
      return reachable_;
    }
  }
  auto exists = store_.bucket_exists(bucket_);
  {
    std::lock_guard lock(mutex_);
    reachable_ = exists.ok() && exists.value();
    detail_ = exists.ok() ? (exists.value() ? "" : "bucket " + bucket_ + " does not exist")
                          : exists.error().message;
    checked_at_ = std::chrono::steady_clock::now();
    checked_ = true;
  }
  observe::Metrics::global().store_reachable.unlabelled().set(exists.ok() && exists.value() ? 1
                                                                                            : 0);
  return answer();
}

}  // namespace imgpipe::pipeline
