#include "backfill/scan.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "backfill/synthetic_event.h"
#include "common/hash.h"
#include "common/sleep.h"
#include "pipeline/products.h"
#include "pipeline/recipe_fingerprint.h"
#include "pipeline/write_decision.h"

namespace imgpipe::backfill {
namespace {

using pipeline::OutputState;

// How bad an output's state is for the object; the worst output decides.
int severity(OutputState state, bool changed) {
  switch (state) {
    case OutputState::up_to_date:
    case OutputState::newer: return 0;  // newer: the listing is older than the output
    case OutputState::outdated: return changed ? 1 : 0;
    case OutputState::stale: return 2;
    case OutputState::missing: return 3;
    case OutputState::foreign: return 4;
  }
  return 0;
}

ObjectClass class_of(int worst) {
  switch (worst) {
    case 1: return ObjectClass::outdated;
    case 2: return ObjectClass::stale;
    case 3: return ObjectClass::missing;
    case 4: return ObjectClass::collision;
    default: return ObjectClass::up_to_date;
  }
}

// HEAD of `key`: the object, nullopt when it does not exist, or the error.
Result<std::optional<s3::ObjectInfo>> head(s3::ObjectStore& store, const std::string& bucket,
                                           const std::string& key, std::uint64_t& requests,
                                           std::stop_token stop) {
  ++requests;
  auto info = store.head_object(bucket, key, stop);
  if (info) return std::optional<s3::ObjectInfo>(std::move(info).value());
  if (info.error().reason == Reason::object_missing) return std::optional<s3::ObjectInfo>();
  return info.error();
}

// The worst state of one output (and its sidecar) of `source`.
Result<int> output_severity(const pipeline::Output& output, const pipeline::SourceVersion& source,
                            bool changed, s3::ObjectStore& store, std::uint64_t& requests,
                            std::stop_token stop) {
  const std::string recipe = pipeline::recipe_fingerprint(output);
  std::optional<s3::ObjectInfo> found;
  std::string found_key;
  // With format keep and {format} in the key, any of the keys may be it.
  for (const auto& key : pipeline::output_keys(output, source.key, source.etag)) {
    auto info = head(store, output.bucket, key, requests, stop);
    if (!info) return info.error();
    if (info->has_value()) {
      found = std::move(info).value();
      found_key = key;
      break;
    }
  }
  int worst = severity(pipeline::output_state(found, source, recipe), changed);
  if (worst == 0 && found && output.sidecar) {
    auto sidecar = head(store, output.bucket, found_key + ".json", requests, stop);
    if (!sidecar) return sidecar.error();
    worst = std::max(worst, severity(pipeline::output_state(*sidecar, source, recipe), changed));
  }
  return worst;
}

std::string common_prefix(const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return "";
  std::string common = prefixes.front();
  for (const auto& prefix : prefixes) {
    std::size_t length = 0;
    while (length < common.size() && length < prefix.size() && common[length] == prefix[length]) {
      ++length;
    }
    common.resize(length);
  }
  return common;
}

// Calls `attempt` until it succeeds, fails for good, or `retries` more
// tries failed transiently; sleeps initial_ms, doubling, in between.
template <class Attempt>
auto retrying(int retries, int initial_ms, std::stop_token stop, Attempt attempt)
    -> decltype(attempt()) {
  auto result = attempt();
  auto delay = std::chrono::milliseconds(initial_ms);
  for (int retry = 0; retry < retries && !result && is_transient(result.error().reason); ++retry) {
    if (!sleep_for(delay, stop)) return result;
    delay *= 2;
    result = attempt();
  }
  return result;
}

}  // namespace

RetryingHeads::RetryingHeads(s3::ObjectStore& inner, int retries, int initial_ms)
    : inner_(inner), retries_(retries), initial_ms_(initial_ms) {}

Result<s3::Object> RetryingHeads::get_object(const std::string& bucket, const std::string& key,
                                             const s3::GetOptions& options) {
  return inner_.get_object(bucket, key, options);
}

Result<std::string> RetryingHeads::put_object(const std::string& bucket, const std::string& key,
                                              const s3::PutRequest& request) {
  return inner_.put_object(bucket, key, request);
}

Result<s3::ObjectInfo> RetryingHeads::head_object(const std::string& bucket, const std::string& key,
                                                  std::stop_token stop) {
  return retrying(retries_, initial_ms_, stop,
                  [&] { return inner_.head_object(bucket, key, stop); });
}

Status RetryingHeads::delete_object(const std::string& bucket, const std::string& key,
                                    std::stop_token stop) {
  return inner_.delete_object(bucket, key, stop);
}

Result<bool> RetryingHeads::bucket_exists(const std::string& bucket) {
  return inner_.bucket_exists(bucket);
}

const char* class_name(ObjectClass object_class) {
  switch (object_class) {
    case ObjectClass::up_to_date: return "up_to_date";
    case ObjectClass::missing: return "missing";
    case ObjectClass::stale: return "stale";
    case ObjectClass::outdated: return "outdated";
    case ObjectClass::forced: return "forced";
    case ObjectClass::own_output: return "own_output";
    case ObjectClass::collision: return "collision";
  }
  return "up_to_date";
}

std::vector<ObjectClass> all_classes() {
  return {ObjectClass::up_to_date, ObjectClass::missing, ObjectClass::stale,
          ObjectClass::outdated,   ObjectClass::forced,  ObjectClass::own_output,
          ObjectClass::collision};
}

bool needs_work(ObjectClass object_class) {
  return object_class == ObjectClass::missing || object_class == ObjectClass::stale ||
         object_class == ObjectClass::outdated || object_class == ObjectClass::forced;
}

Result<std::vector<Source>> scan_sources(const ScanOptions& options) {
  std::vector<std::string> buckets;
  for (const auto& rule : options.rules) {
    if (std::find(buckets.begin(), buckets.end(), rule.match.bucket) == buckets.end()) {
      buckets.push_back(rule.match.bucket);
    }
  }
  std::sort(buckets.begin(), buckets.end());
  if (!options.bucket.empty()) {
    if (std::find(buckets.begin(), buckets.end(), options.bucket) == buckets.end()) {
      return make_error(Reason::invalid_config,
                        "--bucket " + options.bucket + " is no rule's source bucket");
    }
    buckets = {options.bucket};
  }
  std::vector<Source> sources;
  for (const auto& bucket : buckets) {
    std::vector<std::string> prefixes;
    for (const auto& rule : options.rules) {
      if (rule.match.bucket == bucket) prefixes.push_back(rule.match.prefix);
    }
    // The rules' own prefixes narrow the listing for free; an explicit one
    // replaces them (objects outside the rules' prefixes match nothing).
    sources.push_back({bucket, options.prefix.empty() ? common_prefix(prefixes) : options.prefix});
  }
  return sources;
}

std::string scan_fingerprint(const ScanOptions& options, const std::string& store) {
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  for (const auto& rule : options.rules) {
    nlohmann::ordered_json outputs = nlohmann::ordered_json::array();
    for (const auto& output : rule.outputs) {
      outputs.push_back({output.bucket, output.key_template, output.sidecar,
                         pipeline::recipe_fingerprint(output)});
    }
    const auto& match = rule.match;
    rules.push_back({rule.name, match.bucket, match.prefix, match.suffix, match.glob,
                     match.min_size, match.max_size, outputs});
  }
  const nlohmann::ordered_json identity = {{"store", store},
                                           {"bucket", options.bucket},
                                           {"prefix", options.prefix},
                                           {"since", options.since_ms},
                                           {"changed", options.changed},
                                           {"force", options.force},
                                           {"rules", rules}};
  return fnv1a64_hex(identity.dump());
}

Result<std::uint64_t> count_listed(Lister& lister, const std::vector<Source>& sources,
                                   int page_size, std::uint64_t& list_requests,
                                   std::stop_token stop) {
  std::uint64_t total = 0;
  for (const auto& source : sources) {
    std::string token;
    do {
      if (stop.stop_requested()) return make_error(Reason::cancelled, "stopped");
      auto page = lister.list(source, token, page_size);
      ++list_requests;
      if (!page) return page.error();
      total += page->objects.size();
      token = page->is_truncated ? page->next_continuation_token : "";
    } while (!token.empty());
  }
  return total;
}

Result<ObjectClass> classify(const std::string& bucket, const s3::ListEntry& object,
                             const std::vector<const pipeline::Rule*>& rules, bool changed,
                             bool bucket_is_a_target, s3::ObjectStore& store,
                             std::uint64_t& head_requests, std::stop_token stop) {
  const pipeline::SourceVersion source{bucket, object.key, object.etag,
                                       listing_sequencer(object.last_modified_ms)};
  int worst = 0;
  for (const pipeline::Rule* rule : rules) {
    for (const pipeline::Output& output : rule->outputs) {
      auto state = output_severity(output, source, changed, store, head_requests, stop);
      if (!state) return state.error();
      worst = std::max(worst, state.value());
    }
  }
  const ObjectClass object_class = class_of(worst);
  if (!needs_work(object_class) || !bucket_is_a_target) return object_class;
  // A bucket imgpipe also writes to: the object may be one of its outputs.
  auto itself = head(store, bucket, object.key, head_requests, stop);
  if (!itself) return itself.error();
  if (!itself->has_value()) return ObjectClass::up_to_date;  // deleted since the listing
  if (pipeline::has_source_marker((*itself)->metadata)) return ObjectClass::own_output;
  return object_class;
}

Scan::Scan(ScanOptions options, ScanDeps deps) : options_(std::move(options)), deps_(deps) {
  for (const auto& rule : options_.rules) {
    for (const auto& output : rule.outputs) target_buckets_.push_back(output.bucket);
  }
}

Counts Scan::progress() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void Scan::record(ObjectClass object_class, const std::string& bucket, const std::string& key) {
  std::lock_guard lock(mutex_);
  ++counts_.of(object_class);
  auto& samples = samples_[object_class];
  if (samples.size() < options_.samples) samples.push_back(bucket + "/" + key);
}

Status Scan::process_object(const Source& source, const s3::ListEntry& object,
                            std::stop_token stop) {
  if (options_.since_ms >= 0 && object.last_modified_ms >= 0 &&
      object.last_modified_ms < options_.since_ms) {
    return ok_status();
  }
  const pipeline::ObjectRef ref{source.bucket, object.key, object.size, ""};
  const auto rules = pipeline::matching_rules(options_.rules, ref);
  if (rules.empty()) return ok_status();
  {
    std::lock_guard lock(mutex_);
    ++counts_.matched;
  }
  ObjectClass object_class = ObjectClass::forced;
  if (!options_.force) {
    const bool is_target = std::find(target_buckets_.begin(), target_buckets_.end(),
                                     source.bucket) != target_buckets_.end();
    std::uint64_t heads = 0;
    RetryingHeads store(deps_.store, options_.retries, options_.retry_initial_ms);
    auto classified =
        classify(source.bucket, object, rules, options_.changed, is_target, store, heads, stop);
    {
      std::lock_guard lock(mutex_);
      counts_.head_requests += heads;
    }
    if (!classified) return classified.error();
    object_class = classified.value();
  }
  record(object_class, source.bucket, object.key);
  if (!needs_work(object_class) || options_.dry_run) return ok_status();
  auto enqueued = deps_.enqueuer.enqueue(source.bucket, object, object_class, stop);
  if (!enqueued) return enqueued;
  std::lock_guard lock(mutex_);
  ++counts_.enqueued;
  return ok_status();
}

Status Scan::process_page(const Source& source, const std::vector<s3::ListEntry>& objects,
                          std::stop_token stop) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::optional<Error> first_error;
  const auto work = [&] {
    while (!stop.stop_requested() && !failed.load()) {
      const std::size_t index = next.fetch_add(1);
      if (index >= objects.size()) return;
      auto done = process_object(source, objects[index], stop);
      if (!done) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = done.error();
        failed = true;
      }
    }
  };
  const std::size_t threads =
      std::min<std::size_t>(std::max(options_.concurrency, 1), objects.size());
  {
    std::vector<std::jthread> pool;
    for (std::size_t i = 1; i < threads; ++i) pool.emplace_back(work);
    work();
  }  // joined
  if (first_error) return *first_error;
  return ok_status();
}

Result<ScanResult> Scan::run(const std::optional<Checkpoint>& resume, std::stop_token stop) {
  auto sources = scan_sources(options_);
  if (!sources) return sources.error();
  Position position = resume ? resume->next : Position{};
  {
    std::lock_guard lock(mutex_);
    counts_ = resume ? resume->counts : Counts{};
    samples_.clear();
  }
  const auto result = [&](bool complete) {
    std::lock_guard lock(mutex_);
    return ScanResult{counts_, samples_, complete};
  };
  while (position.source_index < sources->size()) {
    const Source& source = (*sources)[position.source_index];
    auto page = retrying(options_.retries, options_.retry_initial_ms, stop, [&] {
      return deps_.lister.list(source, position.continuation_token, options_.page_size);
    });
    {
      std::lock_guard lock(mutex_);
      ++counts_.list_requests;
    }
    if (!page) return page.error();
    {
      std::lock_guard lock(mutex_);
      counts_.listed += page->objects.size();
    }
    auto processed = process_page(source, page->objects, stop);
    if (stop.stop_requested()) return result(false);
    if (!processed) return processed.error();
    if (page->is_truncated) {
      position.continuation_token = page->next_continuation_token;
    } else {
      position = Position{position.source_index + 1, ""};
    }
    if (deps_.checkpoints != nullptr && !options_.dry_run) {
      auto saved = deps_.checkpoints->save(Checkpoint{{}, position, progress()});
      if (!saved) return saved.error();
    }
  }
  return result(true);
}

}  // namespace imgpipe::backfill
