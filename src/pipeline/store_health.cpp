#include "pipeline/store_health.h"

#include "common/sleep.h"
#include "observe/metrics.h"

namespace imgpipe::pipeline {

ProbedStoreHealth::ProbedStoreHealth(s3::ObjectStore& probe_store, std::string bucket)
    : store_(probe_store), bucket_(std::move(bucket)) {}

ProbedStoreHealth::~ProbedStoreHealth() {
  prober_.request_stop();
}

bool ProbedStoreHealth::reachable(std::string* detail) {
  std::lock_guard lock(mutex_);
  if (detail != nullptr) *detail = detail_;
  return reachable_;
}

void ProbedStoreHealth::refresh() {
  std::lock_guard probing(probe_mutex_);
  auto exists = store_.bucket_exists(bucket_);
  const bool up = exists.ok() && exists.value();
  {
    std::lock_guard lock(mutex_);
    reachable_ = up;
    // With the reason first: "tls_failed: curl: SSL peer certificate ...".
    detail_ = exists.ok()
                  ? (up ? "" : "bucket " + bucket_ + " does not exist")
                  : std::string(reason_name(exists.error().reason)) + ": " + exists.error().message;
  }
  observe::Metrics::global().store_reachable.unlabelled().set(up ? 1 : 0);
}

void ProbedStoreHealth::start_probing(std::chrono::milliseconds interval) {
  prober_ = std::jthread([this, interval](std::stop_token stop) {
    do {
      refresh();
    } while (sleep_for(interval, stop));
  });
}

}  // namespace imgpipe::pipeline
