// The backfill scan: lists the rules' source buckets and, for every object a
// rule takes, decides from listings and HEADs of its outputs (never a GET of
// an image) whether its outputs are up to date, missing, stale (rendered
// from another ETag of the source) or outdated (another recipe, see
// pipeline/recipe_fingerprint.h), and hands what needs work to an Enqueuer:
// synthetic events on the event topic for the worker fleet, or the pipeline
// in this process (enqueue.h).
//
// Resumable: after each page is classified and everything it enqueued is
// acknowledged, the scan saves a Checkpoint (where the next page starts and
// the counts so far). A scan stopped or killed in the middle of a page
// repeats that page when resumed, so no object is enqueued more than twice.
//
// Classes of an object (the worst of its outputs decides):
//   collision   an output key holds another source's output or a foreign
//               object: not enqueued (the worker would dead-letter it)
//   missing     an output (or its sidecar) does not exist
//   stale       an output was rendered from another version of the source
//   outdated    an output was made by another recipe (only with `changed`)
//   up_to_date  everything current (also: an output of a newer version)
//   forced      `force`: enqueued without looking at the outputs
//   own_output  the object is itself an imgpipe output (in a bucket that is
//               both a source and a target): never enqueued
//
// Thread-safety: run() once at a time; progress() from any thread while it
// runs. The Lister, ObjectStore and Enqueuer must be thread-safe: a page is
// classified by `concurrency` threads.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.h"
#include "pipeline/rules.h"
#include "s3/object_store.h"

namespace imgpipe::backfill {

enum class ObjectClass { up_to_date, missing, stale, outdated, forced, own_output, collision };
inline constexpr std::size_t kClassCount = 7;
const char* class_name(ObjectClass object_class);
std::vector<ObjectClass> all_classes();

// True for the classes that are enqueued.
bool needs_work(ObjectClass object_class);

struct Counts {
  std::uint64_t listed = 0;   // objects in the listings
  std::uint64_t matched = 0;  // taken by a rule (and modified since --since)
  std::array<std::uint64_t, kClassCount> by_class{};
  std::uint64_t enqueued = 0;  // acknowledged by the Enqueuer
  std::uint64_t list_requests = 0;
  std::uint64_t head_requests = 0;

  std::uint64_t& of(ObjectClass object_class) {
    return by_class.at(static_cast<std::size_t>(object_class));
  }
  std::uint64_t of(ObjectClass object_class) const {
    return by_class.at(static_cast<std::size_t>(object_class));
  }
};

// A bucket and the prefix its listing is narrowed to.
struct Source {
  std::string bucket;
  std::string prefix;
};

// Where the next page starts: sources()[source_index], at `token` (empty:
// the first page of that source). source_index == sources().size(): done.
struct Position {
  std::size_t source_index = 0;
  std::string continuation_token;
};

struct Checkpoint {
  std::string fingerprint;  // scan_fingerprint() of the scan; filled in by the CheckpointFile
  Position next;
  Counts counts;
};

struct ScanOptions {
  std::vector<pipeline::Rule> rules;  // Config::effective_rules()
  std::string bucket;                 // only this bucket; empty: every rule's
  std::string prefix;                 // listing prefix; empty: the rules' common prefix
  std::int64_t since_ms = -1;         // only objects modified since (Unix ms); -1: all
  bool changed = false;               // also look for outdated recipes
  bool force = false;                 // enqueue everything matched
  bool dry_run = false;               // classify only: enqueue and save nothing
  int page_size = 1000;               // ListObjectsV2 max-keys
  int concurrency = 8;                // threads classifying (and enqueuing) a page
  std::size_t samples = 10;           // keys kept per class for the report
  // A transient failure (unavailable, timeout) of a LIST or HEAD is tried
  // again this many times, after retry_initial_ms, doubling; then the scan
  // fails (and can be resumed).
  int retries = 3;
  int retry_initial_ms = 250;
};

// The sources a scan lists, in order; invalid_config when `bucket` is not a
// rule's source bucket or `prefix` cannot match any rule of it.
Result<std::vector<Source>> scan_sources(const ScanOptions& options);

// Identifies a scan for its checkpoint: the same command gives the same
// fingerprint (16 hex digits); `store` names the S3 endpoint.
std::string scan_fingerprint(const ScanOptions& options, const std::string& store);

// The object listing; s3::Client implements it through ListingOf<Client>.
class Lister {
 public:
  virtual ~Lister() = default;
  virtual Result<s3::ListPage> list(const Source& source, const std::string& continuation_token,
                                    int max_keys) = 0;
};

template <class Client>
class ListingOf final : public Lister {
 public:
  explicit ListingOf(Client& client) : client_(client) {}
  Result<s3::ListPage> list(const Source& source, const std::string& continuation_token,
                            int max_keys) override {
    return client_.list_objects(source.bucket, source.prefix, continuation_token, max_keys);
  }

 private:
  Client& client_;
};

// Where the objects that need work go. enqueue() returns once it is done
// (acknowledged by Kafka, or processed); cancelled when `stop` came first.
class Enqueuer {
 public:
  virtual ~Enqueuer() = default;
  virtual Status enqueue(const std::string& bucket, const s3::ListEntry& object, ObjectClass why,
                         std::stop_token stop) = 0;
};

class CheckpointSink {
 public:
  virtual ~CheckpointSink() = default;
  virtual Status save(const Checkpoint& checkpoint) = 0;
};

struct ScanDeps {
  Lister& lister;
  s3::ObjectStore& store;         // HEADs of outputs (and of sources in target buckets)
  Enqueuer& enqueuer;             // not called in a dry run
  CheckpointSink* checkpoints{};  // null: no checkpoints (dry runs save none anyway)
};

struct ScanResult {
  Counts counts;
  std::map<ObjectClass, std::vector<std::string>> samples;  // "bucket/key", first few per class
  bool complete = false;                                    // false: stopped early
};

// How many objects the listings of `sources` hold (LIST requests only, for a
// progress estimate); adds the requests made to `list_requests`.
Result<std::uint64_t> count_listed(Lister& lister, const std::vector<Source>& sources,
                                   int page_size, std::uint64_t& list_requests,
                                   std::stop_token stop = {});

// The class of one listed object for `rules` (those matching it). HEADs go
// through `store` and are counted in `head_requests`. Fails only when a
// HEAD fails otherwise than with object_missing.
Result<ObjectClass> classify(const std::string& bucket, const s3::ListEntry& object,
                             const std::vector<const pipeline::Rule*>& rules, bool changed,
                             bool bucket_is_a_target, s3::ObjectStore& store,
                             std::uint64_t& head_requests, std::stop_token stop = {});

// A store whose HEADs retry transient failures (ScanOptions::retries).
class RetryingHeads final : public s3::ObjectStore {
 public:
  RetryingHeads(s3::ObjectStore& inner, int retries, int initial_ms);
  using s3::ObjectStore::get_object;
  Result<s3::Object> get_object(const std::string& bucket, const std::string& key,
                                const s3::GetOptions& options) override;
  Result<std::string> put_object(const std::string& bucket, const std::string& key,
                                 const s3::PutRequest& request) override;
  Result<s3::ObjectInfo> head_object(const std::string& bucket, const std::string& key,
                                     std::stop_token stop = {}) override;
  Status delete_object(const std::string& bucket, const std::string& key,
                       std::stop_token stop = {}) override;
  Result<bool> bucket_exists(const std::string& bucket) override;

 private:
  s3::ObjectStore& inner_;
  int retries_;
  int initial_ms_;
};

class Scan {
 public:
  Scan(ScanOptions options, ScanDeps deps);

  // Lists and classifies from `resume` (its counts included) or from the
  // start; fails on a listing, HEAD or enqueue failure (what was
  // checkpointed stays valid) or invalid options.
  Result<ScanResult> run(const std::optional<Checkpoint>& resume, std::stop_token stop);

  Counts progress() const;

 private:
  Status process_page(const Source& source, const std::vector<s3::ListEntry>& objects,
                      std::stop_token stop);
  Status process_object(const Source& source, const s3::ListEntry& object, std::stop_token stop);
  void record(ObjectClass object_class, const std::string& bucket, const std::string& key);

  ScanOptions options_;
  ScanDeps deps_;
  std::vector<std::string> target_buckets_;
  mutable std::mutex mutex_;
  Counts counts_;
  std::map<ObjectClass, std::vector<std::string>> samples_;
};

}  // namespace imgpipe::backfill
