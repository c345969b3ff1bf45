// Is the object store as a whole reachable? The Job asks after a transient
// failure to tell an outage (every request fails: wait, do not count the
// attempt against the object) from a failure of one object (count it; after
// pipeline.max_attempts the message is dead-lettered). /readyz asks too.
//
// Thread-safety: reachable() may be called from many threads; one probe
// runs at a time and its answer is shared. While a probe is under way, other
// callers get the last answer at once instead of waiting for it (a /readyz
// request must not hang on a stalled store).
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "s3/object_store.h"

namespace imgpipe::pipeline {

class StoreHealth {
 public:
  virtual ~StoreHealth() = default;
  // True when the store answered recently. `detail` says why not.
  virtual bool reachable(std::string* detail = nullptr) = 0;
};

// Answers from HEAD bucket on `probe_store` (give it short timeouts, so that a
// stalled store is recognised quickly). A "reachable" answer is reused for
// `fresh_for`; an "unreachable" one is asked again on every call after
// `retry_after`, so that recovery is noticed at once.
class ProbedStoreHealth final : public StoreHealth {
 public:
  ProbedStoreHealth(s3::ObjectStore& probe_store, std::string bucket,
                    std::chrono::milliseconds fresh_for = std::chrono::milliseconds(1000),
                    std::chrono::milliseconds retry_after = std::chrono::milliseconds(200));
  bool reachable(std::string* detail = nullptr) override;

 private:
  s3::ObjectStore& store_;
  std::string bucket_;
  std::chrono::milliseconds fresh_for_;
  std::chrono::milliseconds retry_after_;
  std::mutex probe_mutex_;  // held while a probe runs
  std::mutex mutex_;        // guards the answer below
  std::chrono::steady_clock::time_point checked_at_{};
  bool checked_ = false;
  bool reachable_ = false;
  std::string detail_ = "not asked yet";
};

}  // namespace imgpipe::pipeline
