// The per-message job: what happens to one Kafka message from the event
// topic. Parse the event, decide whether it concerns us, GET the object,
// transform it, PUT the outputs, and say whether the offset may move on.
//
// Decisions, made here and nowhere else:
//   - skipped, offset moves on: events of other buckets or no rule, objects
//     imgpipe wrote itself, an event whose object was overwritten since
//     (superseded: the newer version's own event comes), outputs already
//     up to date (redelivery after a crash; tagging/retention events) or
//     derived from a newer version;
//   - removed: a delete event removes the outputs derived from that key
//     (only those recording it as their source, only when the source is
//     really gone: HEAD 404), unless pipeline.delete_outputs is off;
//   - failed for good (malformed message, missing object, not an image,
//     limits, an output key holding another source's output, S3 4xx,
//     internal errors, retries exhausted): counted by reason, logged and
//     dead-lettered; the offset moves on only once the dead-letter record
//     is stored;
//   - transient failure (S3 unreachable, 5xx, timeout): retried with
//     exponential back-off with jitter (each sleep a random point in the
//     upper half of the doubled delay). While the store as a whole is
//     unreachable (StoreHealth), the attempt is not counted: an outage only
//     waits. A failure of this object while the store answers counts; after
//     pipeline.max_attempts the message is dead-lettered with that reason;
//   - cancelled (shutdown, or the partition was lost): no retry, the offset
//     does not move, the message is delivered again.
//
// Every output is written conditionally (write_decision.h): never over a
// newer rendering, never over another source's output; the same source
// version made by another recipe (recipe_fingerprint.h) is rewritten.
//
// Thread-safety: handle() may run on many threads at once; the ObjectStore,
// Sleeper, DeadLetterSink and StoreHealth must be thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

#include "events/event.h"
#include "kafka/consumer.h"
#include "pipeline/config.h"
#include "pipeline/dead_letter.h"
#include "pipeline/products.h"
#include "pipeline/store_health.h"
#include "pipeline/write_decision.h"
#include "s3/object_store.h"

namespace imgpipe::pipeline {

// The Kafka header `imgpipe backfill` puts on its synthetic events; its value
// is why the object was enqueued (missing, stale, outdated or forced).
// "forced" makes the job render and write every output even when it is up
// to date; the other values change nothing (the event is an ordinary one).
inline constexpr const char* kBackfillHeader = "imgpipe.backfill";
inline constexpr const char* kBackfillForced = "forced";

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
  done,       // processed, skipped, or failed for good and dead-lettered: the offset may move on
  cancelled,  // shutdown or a lost partition interrupted it: do not move the offset
};

// A number in [0, 1], for the jitter of back-offs; a seam so that tests can
// fix it. The default draws from a per-thread generator.
using UnitRandom = std::function<double()>;

// What a Job needs besides its configuration.
struct JobDeps {
  s3::ObjectStore& store;
  Sleeper& sleeper;
  DeadLetterSink& dead_letters;
  StoreHealth& health;
  UnitRandom random = {};
};

class Job {
 public:
  Job(const Config& config, JobDeps deps);
  JobStatus handle(const kafka::Message& message, std::stop_token stop);

 private:
  struct Tally;  // attempts and first failure of one message
  // The outcome of one event: done, cancelled, or a failure to dead-letter.
  struct EventOutcome {
    JobStatus status = JobStatus::done;
    std::optional<Error> failure;
  };
  EventOutcome handle_event(const events::ObjectEvent& event, Tally& tally, std::stop_token stop);
  EventOutcome process_object(const events::ObjectEvent& event,
                              const std::vector<const Rule*>& rules, Tally& tally,
                              std::stop_token stop);
  EventOutcome remove_outputs(const events::ObjectEvent& event, Tally& tally, std::stop_token stop);
  // What HEADs of outputs found, by "bucket/key": the object, or nullopt
  // where there was none. One job's, taken by its first write of that key.
  using SeenOutputs = std::map<std::string, std::optional<s3::ObjectInfo>>;
  // The outputs of `rules` that (with their sidecars) already record the
  // event's source version and their current recipe: nothing to render.
  // Records in `seen` what each HEAD found.
  std::set<const Output*> current_outputs(const events::ObjectEvent& event,
                                          const std::vector<const Rule*>& rules, SeenOutputs& seen,
                                          std::stop_token stop);
  JobStatus dead_letter(const kafka::Message& message, const Error& error, const Tally& tally,
                        std::stop_token stop);

  // Writes a product (and its sidecar) conditionally: what was decided, or
  // the failure; nullopt when interrupted.
  std::optional<Result<WriteDecision>> write(const Product& product, const SourceVersion& source,
                                             SeenOutputs& seen, Tally& tally, std::stop_token stop);
  // Whether `source` is still the object's version (a HEAD); nullopt when
  // stopped. Used where sequencers cannot order two versions.
  std::optional<Result<bool>> source_is_current(const SourceVersion& source, Tally& tally,
                                                std::stop_token stop);
  // The first round decides from what `seen` holds for the key, if
  // anything, instead of a HEAD of its own: the PUT is conditional on that
  // state, so a change since fails it and is looked at again.
  std::optional<Result<WriteDecision>> write_one(const std::string& bucket, const std::string& key,
                                                 s3::PutRequest put, const SourceVersion& source,
                                                 SeenOutputs& seen, Tally& tally,
                                                 std::stop_token stop);
  class StoreSink;  // write_products() into the object store, with metrics and logs
  template <class Attempt>
  auto with_retries(const char* stage, const std::string& key, Tally& tally, Attempt attempt,
                    std::stop_token stop) -> std::optional<decltype(attempt())>;
  std::chrono::milliseconds backoff(std::chrono::milliseconds& delay);

  const Config& config_;
  JobDeps deps_;
  std::vector<Rule> rules_;
  image::Limits limits_;
  std::unique_ptr<RenderSlots> render_slots_;  // shared by the threads running handle()
};

}  // namespace imgpipe::pipeline
