// The per-message job: what happens to one Kafka message from the event
// topic. Parse the event, decide whether it concerns us, GET the object,
// transform it, PUT the output, and say whether the offset may move on.
//
// Decisions, made here and nowhere else:
//   - malformed message, removed/accessed event, another bucket, an object
//     imgpipe wrote itself: counted, logged, offset moves on;
//   - permanent failure (missing object, not an image, too large, S3 4xx):
//     counted by reason, logged, offset moves on;
//   - transient failure (S3 unreachable, 5xx, timeout): retried with
//     exponential back-off with jitter (each sleep a random point in the
//     upper half of the doubled delay, so workers that failed together do
//     not retry together) until it succeeds or shutdown cancels the job;
//     a cancelled job does not move the offset, so the message is delivered
//     again after a restart.
//
// Thread-safety: handle() may run on many threads at once; the ObjectStore
// and Sleeper must be thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>

#include "events/event.h"
#include "kafka/consumer.h"
#include "pipeline/config.h"
#include "pipeline/products.h"
#include "s3/object_store.h"

namespace imgpipe::pipeline {

// The seam for back-off sleeps. Returns false when stop was requested.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual bool sleep_for(std::chrono::milliseconds duration, std::stop_token stop) = 0;
};

class RealSleeper final : public Sleeper {
 public:
  bool sleep_for(std::chrono::milliseconds duration, std::stop_token stop) override;
};

enum class JobStatus {
  done,       // processed, skipped or failed for good: the offset may move on
  cancelled,  // shutdown interrupted it: do not move the offset
};

// A number in [0, 1], for the jitter of back-offs; a seam so that tests can
// fix it. The default draws from a per-thread generator.
using UnitRandom = std::function<double()>;

class Job {
 public:
  Job(const Config& config, s3::ObjectStore& store, Sleeper& sleeper, UnitRandom random = {});
  JobStatus handle(const kafka::Message& message, std::stop_token stop);

 private:
  JobStatus handle_event(const events::ObjectEvent& event, std::stop_token stop);
  JobStatus process_object(const events::ObjectEvent& event, const std::vector<const Rule*>& rules,
                           std::stop_token stop);
  // Writes a product (and its sidecar); nullopt when shutdown interrupted it.
  std::optional<Status> write(const Product& product, std::stop_token stop);
  class StoreSink;  // write_products() into the object store, with metrics and logs
  template <class Attempt>
  auto with_retries(const char* stage, const std::string& key, Attempt attempt,
                    std::stop_token stop) -> std::optional<decltype(attempt())>;

  const Config& config_;
  s3::ObjectStore& store_;
  Sleeper& sleeper_;
  UnitRandom random_;
  std::vector<Rule> rules_;
  image::Limits limits_;
};

}  // namespace imgpipe::pipeline
