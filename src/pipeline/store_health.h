// Is the object store as a whole reachable? The Job asks after a transient
// failure to tell an outage (every request fails: wait, do not count the
// attempt against the object) from a failure of one object (count it; after
// pipeline.max_attempts the message is dead-lettered). /readyz asks too.
//
// Thread-safety: reachable() may be called from many threads and never
// waits for the store; refresh() and the background prober run one probe at
// a time.
#pragma once

#include <chrono>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "s3/object_store.h"

namespace imgpipe::pipeline {

class StoreHealth {
 public:
  virtual ~StoreHealth() = default;
  // The last known answer: true when the store answered. `detail` says why
  // not, starting with the reason code of a failed request ("tls_failed: ...").
  virtual bool reachable(std::string* detail = nullptr) = 0;
};

// Answers from HEAD bucket on `probe_store` (give it short timeouts, so that a
// stalled store is recognised within seconds). The answer is what the last
// probe found: a stalled store never makes a caller (a /readyz request, a
// job deciding whether to count an attempt) wait.
class ProbedStoreHealth final : public StoreHealth {
 public:
  ProbedStoreHealth(s3::ObjectStore& probe_store, std::string bucket);
  ~ProbedStoreHealth() override;
  ProbedStoreHealth(const ProbedStoreHealth&) = delete;
  ProbedStoreHealth& operator=(const ProbedStoreHealth&) = delete;

  bool reachable(std::string* detail = nullptr) override;
  // Probes now and waits for the answer.
  void refresh();
  // Probes every `interval` on a thread of its own until destruction.
  void start_probing(std::chrono::milliseconds interval);

 private:
  s3::ObjectStore& store_;
  std::string bucket_;
  std::mutex probe_mutex_;  // one probe at a time
  std::mutex mutex_;        // guards the answer below
  bool reachable_ = false;
  std::string detail_ = "not asked yet";
  std::jthread prober_;
};

}  // namespace imgpipe::pipeline
