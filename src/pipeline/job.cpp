#include "pipeline/job.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "common/sleep.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "pipeline/recipe_fingerprint.h"

namespace imgpipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using observe::Metrics;

// How SeenOutputs names an object: the pre-check records, the write takes.
std::string seen_key(const std::string& bucket, const std::string& key) {
  return bucket + "/" + key;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string_view kind_name(events::EventKind kind) {
  switch (kind) {
    case events::EventKind::created: return "created";
    case events::EventKind::removed: return "removed";
    case events::EventKind::accessed: return "accessed";
    case events::EventKind::test: return "test";
    case events::EventKind::other: return "other";
  }
  return "other";
}

void count_skip(std::string_view why, const events::ObjectEvent& event) {
  Metrics::global().objects_skipped.with(std::string(why)).increment();
  observe::log_fields(
      spdlog::level::debug, "skipped",
      {{"why", why}, {"event", event.event_name}, {"bucket", event.bucket}, {"key", event.key}});
}

void count_output_skip(std::string_view why, const std::string& bucket, const std::string& key) {
  Metrics::global().objects_skipped.with(std::string(why)).increment();
  observe::log_fields(spdlog::level::debug, "output not written",
                      {{"why", why}, {"target", bucket}, {"target_key", key}});
}

void log_failure(const Error& error, const nlohmann::ordered_json& context) {
  Metrics::global().objects_failed.with(std::string(reason_name(error.reason))).increment();
  nlohmann::ordered_json fields = context;
  fields["reason"] = reason_name(error.reason);
  fields["error"] = error.message;
  observe::log_fields(spdlog::level::warn, "failed", fields);
}

nlohmann::ordered_json event_context(const events::ObjectEvent& event) {
  return {{"bucket", event.bucket}, {"key", event.key}, {"event", event.event_name}};
}

// A rule's match for a delete event, which says nothing of size or type.
bool matches_removed(const Match& match, const ObjectRef& object) {
  Match by_key = match;
  by_key.min_size = 0;
  by_key.max_size = std::numeric_limits<std::uint64_t>::max();
  by_key.content_type.clear();
  return matches(by_key, object);
}

// `imgpipe backfill --force` marks its events: render even what is up to date.
bool is_forced(const kafka::Message& message) {
  return std::any_of(message.headers.begin(), message.headers.end(), [](const auto& header) {
    return header.first == kBackfillHeader && header.second == kBackfillForced;
  });
}

// Backfill's synthetic events query-escape their keys like MinIO's
// (backfill/synthetic_event.h), whichever server the real events come from.
events::KeyEncoding key_encoding(const kafka::Message& message, const Config& config) {
  const bool synthetic =
      std::any_of(message.headers.begin(), message.headers.end(),
                  [](const auto& header) { return header.first == kBackfillHeader; });
  return synthetic ? events::KeyEncoding::query
                   : events::key_encoding_from_name(config.s3.event_keys);
}

// The dead-letter record is found by its key (`imgpipe dlq list
// --key-prefix`): MinIO keys its messages bucket/key; a message without a key
// (versitygw's) is given the object's.
kafka::Message keyed_by_object(const kafka::Message& message, const events::ObjectEvent& event) {
  if (!message.key.empty()) return message;
  kafka::Message keyed = message;
  keyed.key = event.bucket + "/" + event.key;
  return keyed;
}

double default_unit_random() {
  thread_local std::mt19937 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

// The sleep for a back-off of `delay`: between half of it and all of it.
std::chrono::milliseconds jittered(std::chrono::milliseconds delay, double unit) {
  const double half = static_cast<double>(delay.count()) / 2.0;
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(half + std::clamp(unit, 0.0, 1.0) * half));
}

}  // namespace

bool RealSleeper::sleep_for(std::chrono::milliseconds duration, std::stop_token stop) {
  return imgpipe::sleep_for(duration, std::move(stop));
}

struct Job::Tally {
  bool force = false;        // rewrite outputs even when up to date (backfill --force)
  int attempts = 1;          // requests tried for this message, the first included
  int counted_failures = 0;  // transient failures of its own (not during an outage)
  std::optional<std::chrono::system_clock::time_point> first_failure;

  void failed() {
    if (!first_failure) first_failure = std::chrono::system_clock::now();
  }
};

Job::Job(const Config& config, JobDeps deps)
    : config_(config),
      deps_(std::move(deps)),
      rules_(config.effective_rules()),
      limits_(config.limits()),
      render_slots_(std::make_unique<RenderSlots>(config.effective_renders())) {
  if (!deps_.random) deps_.random = default_unit_random;
}

JobStatus Job::handle(const kafka::Message& message, std::stop_token stop) {
  const auto in_hand = render_slots_->enter();
  Tally tally;
  tally.force = is_forced(message);
  auto parsed = events::parse_event_message(message.payload, key_encoding(message, config_));
  if (!parsed) {
    tally.failed();
    log_failure(parsed.error(), {{"topic", message.partition.topic},
                                 {"partition", message.partition.partition},
                                 {"offset", message.offset},
                                 {"message_key", message.key}});
    return dead_letter(message, parsed.error(), tally, stop);
  }
  std::optional<Error> failure;
  const events::ObjectEvent* failed_event = nullptr;
  for (const auto& event : parsed.value()) {
    auto outcome = handle_event(event, tally, stop);
    if (outcome.status == JobStatus::cancelled) return JobStatus::cancelled;
    if (outcome.failure && !failure) {
      failure = std::move(outcome.failure);
      failed_event = &event;
    }
  }
  if (failure) return dead_letter(keyed_by_object(message, *failed_event), *failure, tally, stop);
  return JobStatus::done;
}

JobStatus Job::dead_letter(const kafka::Message& message, const Error& error, const Tally& tally,
                           std::stop_token stop) {
  const DeadLetter letter{error, tally.attempts,
                          tally.first_failure.value_or(std::chrono::system_clock::now())};
  auto delay = std::chrono::milliseconds(config_.pipeline.retry_initial_ms);
  // Without the record stored the offset must not move: keep trying (Kafka
  // down affects the whole worker; nothing else could go on either).
  for (;;) {
    auto sent = deps_.dead_letters.send(message, letter, stop);
    if (sent) {
      Metrics::global().dead_lettered.with(std::string(reason_name(error.reason))).increment();
      observe::log_fields(spdlog::level::info, "dead-lettered",
                          {{"topic", message.partition.topic},
                           {"partition", message.partition.partition},
                           {"offset", message.offset},
                           {"key", message.key},
                           {"reason", reason_name(error.reason)},
                           {"attempts", tally.attempts}});
      return JobStatus::done;
    }
    if (sent.error().reason == Reason::cancelled || stop.stop_requested()) {
      return JobStatus::cancelled;
    }
    observe::log_fields(spdlog::level::warn, "dead-letter record not stored; retrying",
                        {{"offset", message.offset}, {"error", sent.error().message}});
    if (!deps_.sleeper.sleep_for(backoff(delay), stop)) return JobStatus::cancelled;
  }
}

std::chrono::milliseconds Job::backoff(std::chrono::milliseconds& delay) {
  const auto sleep = jittered(delay, deps_.random());
  delay = std::min(delay * 2, std::chrono::milliseconds(config_.pipeline.retry_max_ms));
  return sleep;
}

Job::EventOutcome Job::handle_event(const events::ObjectEvent& event, Tally& tally,
                                    std::stop_token stop) {
  Metrics::global().events_received.with(std::string(kind_name(event.kind))).increment();
  if (event.kind == events::EventKind::removed) return remove_outputs(event, tally, stop);
  if (event.kind != events::EventKind::created) {
    // A server's "s3:TestEvent" says the notification target works; no object.
    count_skip(event.kind == events::EventKind::test ? "test_event" : "not_a_create_event", event);
    return {};
  }
  if (has_source_marker(event.user_metadata)) {
    count_skip("own_output", event);
    return {};
  }
  const ObjectRef object{event.bucket, event.key, event.size, event.content_type};
  const auto rules = matching_rules(rules_, object);
  if (rules.empty()) {
    count_skip("no_matching_rule", event);
    return {};
  }
  return process_object(event, rules, tally, stop);
}

template <class Attempt>
auto Job::with_retries(const char* stage, const std::string& key, Tally& tally, Attempt attempt,
                       std::stop_token stop) -> std::optional<decltype(attempt())> {
  auto delay = std::chrono::milliseconds(config_.pipeline.retry_initial_ms);
  for (;;) {
    auto result = attempt();
    // Shutdown aborted the request under way: interrupted, never retried.
    if (!result.ok() && result.error().reason == Reason::cancelled) return std::nullopt;
    if (result.ok() || !is_transient(result.error().reason)) return result;
    tally.failed();
    const Error& error = result.error();
    std::string outage_detail;
    const bool outage = !deps_.health.reachable(&outage_detail);
    if (!outage && ++tally.counted_failures >= config_.pipeline.max_attempts) {
      return decltype(attempt())(make_error(
          error.reason, error.message + " (" + stage + " gave up after " +
                            std::to_string(tally.counted_failures) + " failed attempts)"));
    }
    ++tally.attempts;
    Metrics::global().retries.with(std::string(reason_name(error.reason))).increment();
    const auto sleep = backoff(delay);
    observe::log_fields(spdlog::level::warn, "retrying",
                        {{"stage", stage},
                         {"key", key},
                         {"attempt", tally.attempts - 1},
                         {"reason", reason_name(error.reason)},
                         {"error", error.message},
                         {"store_outage", outage},
                         {"backoff_ms", sleep.count()}});
    if (!deps_.sleeper.sleep_for(sleep, stop)) return std::nullopt;
  }
}

std::optional<Result<bool>> Job::source_is_current(const SourceVersion& source, Tally& tally,
                                                   std::stop_token stop) {
  auto head = with_retries(
      "head", source.key, tally,
      [&] { return deps_.store.head_object(source.bucket, source.key, stop); }, stop);
  if (!head) return std::nullopt;
  if (head->ok()) return Result<bool>(head->value().etag == source.etag);
  // Deleted since: its remove event takes the outputs away.
  if (head->error().reason == Reason::object_missing) return Result<bool>(false);
  return Result<bool>(head->error());
}

std::optional<Result<WriteDecision>> Job::write_one(const std::string& bucket,
                                                    const std::string& key, s3::PutRequest put,
                                                    const SourceVersion& source, SeenOutputs& seen,
                                                    Tally& tally, std::stop_token stop) {
  // Another writer between our HEAD and our PUT makes the PUT fail; a few
  // rounds settle any realistic race. A round on what the pre-check saw
  // comes on top of them: it saves a request per output when nothing races.
  constexpr int kRounds = 3;
  auto earlier = seen.extract(seen_key(bucket, key));
  int looks = 0;
  while (earlier || looks < kRounds) {
    std::optional<s3::ObjectInfo> existing;
    if (earlier) {
      existing = std::move(earlier.mapped());
      earlier = SeenOutputs::node_type();
    } else {
      ++looks;
      auto head = with_retries(
          "head", key, tally, [&] { return deps_.store.head_object(bucket, key, stop); }, stop);
      if (!head) return std::nullopt;
      if (head->ok()) {
        existing = std::move(head->value());
      } else if (head->error().reason != Reason::object_missing) {
        return Result<WriteDecision>(head->error());
      }
    }
    const auto recipe = put.metadata.find(kRecipeMetadata);
    WriteDecision decision = decide_write(
        existing, source, recipe == put.metadata.end() ? std::string() : recipe->second);
    if (decision == WriteDecision::up_to_date && tally.force) decision = WriteDecision::write;
    if (decision == WriteDecision::collision) {
      const auto recorded = existing->metadata.find(kSourceKeyMetadata);
      return Result<WriteDecision>(make_error(
          Reason::output_key_collision, bucket + "/" + key + " holds " +
                                            (recorded != existing->metadata.end()
                                                 ? "an output of " + recorded->second
                                                 : std::string("an object imgpipe did not write")) +
                                            "; not overwritten with the output of " +
                                            source_id(source)));
    }
    if (decision == WriteDecision::up_to_date) {
      count_output_skip("up_to_date", bucket, key);
      return Result<WriteDecision>(decision);
    }
    if (decision == WriteDecision::newer_exists) {
      count_output_skip("newer_output_exists", bucket, key);
      return Result<WriteDecision>(decision);
    }
    // Without a sequencer (versitygw) an output of another version may be the
    // newer one; it is overwritten only while our version is still the source.
    const bool order_unknown =
        existing && source.sequencer.empty() &&
        output_state(existing, source, recipe == put.metadata.end() ? "" : recipe->second) ==
            OutputState::stale;
    if (order_unknown) {
      auto current = source_is_current(source, tally, stop);
      if (!current) return std::nullopt;
      if (!current->ok()) return Result<WriteDecision>(current->error());
      if (!current->value()) {
        count_output_skip("source_changed", bucket, key);
        return Result<WriteDecision>(WriteDecision::newer_exists);
      }
    }
    put.if_none_match = !existing.has_value();
    put.if_match = existing ? existing->etag : std::string();
    auto written = with_retries(
        "put", key, tally, [&] { return deps_.store.put_object(bucket, key, put); }, stop);
    if (!written) return std::nullopt;
    if (written->ok()) return Result<WriteDecision>(WriteDecision::write);
    if (written->error().reason != Reason::write_conflict) {
      return Result<WriteDecision>(written->error());
    }
    Metrics::global().retries.with(std::string(reason_name(Reason::write_conflict))).increment();
  }
  return Result<WriteDecision>(make_error(
      Reason::write_conflict,
      bucket + "/" + key + " changed " + std::to_string(kRounds) + " times while being written"));
}

std::optional<Result<WriteDecision>> Job::write(const Product& product, const SourceVersion& source,
                                                SeenOutputs& seen, Tally& tally,
                                                std::stop_token stop) {
  auto recorded = source_metadata(source);
  s3::PutRequest put;
  put.content_type = product.content_type;
  put.metadata = product.metadata;
  put.metadata.insert(recorded.begin(), recorded.end());
  put.body = product.body;
  put.stop = stop;
  auto image = write_one(product.bucket, product.key, put, source, seen, tally, stop);
  if (!image || !image->ok() || product.sidecar_key.empty()) return image;

  s3::PutRequest sidecar;
  sidecar.content_type = "application/json";
  sidecar.metadata = recorded;
  // The sidecar describes the image: it is as current as the image's recipe.
  sidecar.metadata[kRecipeMetadata] = product.metadata.at(kRecipeMetadata);
  sidecar.body = product.sidecar_body;
  sidecar.stop = stop;
  auto stored = write_one(product.bucket, product.sidecar_key, sidecar, source, seen, tally, stop);
  if (!stored || !stored->ok()) return stored;
  // The image decides what is reported; a sidecar rewritten alone (it was
  // missing after a crash between the two PUTs) counts as written too.
  if (image->value() != WriteDecision::write && stored->value() == WriteDecision::write) {
    return stored;
  }
  return image;
}

class Job::StoreSink final : public ProductSink {
 public:
  StoreSink(Job& job, const events::ObjectEvent& event, const SourceVersion& source,
            SeenOutputs& seen, Tally& tally, std::size_t input_bytes, double get_seconds,
            Clock::time_point start, std::stop_token stop)
      : job_(job),
        event_(event),
        source_(source),
        seen_(seen),
        tally_(tally),
        input_bytes_(input_bytes),
        get_seconds_(get_seconds),
        start_(start),
        stop_(std::move(stop)) {}

  std::optional<Status> write(const Rule& rule, const Product& product) override {
    auto& metrics = Metrics::global();
    metrics.stage_latency.with("transform")
        .observe(static_cast<double>(product.milliseconds) / 1000.0);
    if (product.facts.source.progressive) metrics.progressive_inputs.unlabelled().increment();
    const auto put_start = Clock::now();
    auto written = job_.write(product, source_, seen_, tally_, stop_);
    if (!written) return std::nullopt;
    if (!written->ok()) return Status(written->error());
    if (written->value() != WriteDecision::write) return ok_status();
    metrics.stage_latency.with("put").observe(seconds_since(put_start));
    metrics.bytes_out.unlabelled().increment(static_cast<double>(product.body.size()));
    metrics.outputs_written.with(product.variant).increment();
    log_processed(rule, product);
    return ok_status();
  }

 private:
  void log_processed(const Rule& rule, const Product& product) const {
    observe::log_fields(spdlog::level::info, "processed",
                        {{"bucket", event_.bucket},
                         {"key", event_.key},
                         {"etag", source_.etag},
                         {"sequencer", source_.sequencer},
                         {"event", event_.event_name},
                         {"rule", rule.name},
                         {"variant", product.variant},
                         {"target", product.bucket},
                         {"target_key", product.key},
                         {"input_bytes", input_bytes_},
                         {"input_width", product.facts.source.width},
                         {"input_height", product.facts.source.height},
                         {"input_format", product.facts.source.format},
                         {"output_bytes", product.body.size()},
                         {"output_width", product.facts.width},
                         {"output_height", product.facts.height},
                         {"output_format", product.facts.format},
                         {"phash", image::hash_hex(product.facts.phash)},
                         {"get_ms", static_cast<long>(get_seconds_ * 1000)},
                         {"transform_ms", product.milliseconds},
                         {"ms", static_cast<long>(seconds_since(start_) * 1000)}});
  }

  Job& job_;
  const events::ObjectEvent& event_;
  const SourceVersion& source_;
  SeenOutputs& seen_;
  Tally& tally_;
  std::size_t input_bytes_;
  double get_seconds_;
  Clock::time_point start_;
  std::stop_token stop_;
};

std::set<const Output*> Job::current_outputs(const events::ObjectEvent& event,
                                             const std::vector<const Rule*>& rules,
                                             SeenOutputs& seen, std::stop_token stop) {
  // Only sure answers are kept: the object, or that there is none.
  const auto remember = [&seen](const std::string& where, const Result<s3::ObjectInfo>& head) {
    if (head) {
      seen[where] = head.value();
    } else if (head.error().reason == Reason::object_missing) {
      seen[where] = std::nullopt;
    }
  };
  std::set<const Output*> current;
  if (event.etag.empty()) return current;
  const SourceVersion source{event.bucket, event.key, event.etag, event.sequencer};
  for (const Rule* rule : rules) {
    for (const Output& output : rule->outputs) {
      const auto keys = output_keys(output, event.key, event.etag);
      if (keys.size() != 1) continue;  // the format comes from the source: unknown yet
      const std::string recipe = recipe_fingerprint(output);
      std::vector<std::string> objects = {keys.front()};
      if (output.sidecar) objects.push_back(keys.front() + ".json");
      const bool up_to_date = std::all_of(objects.begin(), objects.end(), [&](const auto& key) {
        auto info = deps_.store.head_object(output.bucket, key, stop);
        remember(seen_key(output.bucket, key), info);
        return info && decide_write(info.value(), source, recipe) == WriteDecision::up_to_date;
      });
      if (up_to_date) current.insert(&output);
    }
  }
  return current;
}

Job::EventOutcome Job::process_object(const events::ObjectEvent& event,
                                      const std::vector<const Rule*>& rules, Tally& tally,
                                      std::stop_token stop) {
  auto& metrics = Metrics::global();
  const auto start = Clock::now();
  const auto context = event_context(event);
  const auto fail = [&](Error error) {
    log_failure(error, context);
    return EventOutcome{JobStatus::done, std::move(error)};
  };
  // The event says how large the object was: refuse before downloading it.
  // What is current may be larger (overwritten since), so the GET is capped
  // at the same limit too.
  if (event.size > limits_.max_input_bytes) {
    tally.failed();
    return fail(make_error(Reason::too_many_bytes, std::to_string(event.size) +
                                                       " bytes exceeds the limit of " +
                                                       std::to_string(limits_.max_input_bytes)));
  }
  // Redelivered after a crash, or a tagging/retention event: no work at all.
  // After a rules change only the outputs of another recipe are rendered.
  std::set<const Output*> current;
  SeenOutputs seen;
  if (!tally.force) current = current_outputs(event, rules, seen, stop);
  const auto outputs =
      std::accumulate(rules.begin(), rules.end(), std::size_t{0},
                      [](std::size_t sum, const Rule* rule) { return sum + rule->outputs.size(); });
  if (current.size() == outputs) {
    count_skip("up_to_date", event);
    return {};
  }

  auto object = with_retries(
      "get", event.key, tally,
      [&] {
        return deps_.store.get_object(event.bucket, event.key,
                                      s3::GetOptions{limits_.max_input_bytes, event.etag, stop});
      },
      stop);
  if (!object) return {JobStatus::cancelled, std::nullopt};
  if (!object->ok() && object->error().reason == Reason::source_changed) {
    // Overwritten since this event: the newer version's own event renders it.
    count_skip("superseded", event);
    return {};
  }
  if (!object->ok()) {
    tally.failed();
    return fail(object->error());
  }
  const s3::Object& source = object->value();
  if (has_source_marker(source.info.metadata)) {
    count_skip("own_output", event);
    return {};
  }
  metrics.bytes_in.unlabelled().increment(static_cast<double>(source.body.size()));
  const double get_seconds = seconds_since(start);
  metrics.stage_latency.with("get").observe(get_seconds);

  const SourceVersion version{event.bucket, event.key,
                              source.info.etag.empty() ? event.etag : source.info.etag,
                              event.sequencer};
  const ObjectRef ref{event.bucket, event.key, source.body.size(), source.info.content_type};
  StoreSink sink(*this, event, version, seen, tally, source.body.size(), get_seconds, start, stop);
  const ObjectOutcome outcome = write_products(rules, ref, source.body, version.etag, limits_, sink,
                                               current, render_slots_.get());
  if (outcome.interrupted) return {JobStatus::cancelled, std::nullopt};
  if (outcome.first_failure) {
    tally.failed();
    return fail(*outcome.first_failure);
  }
  metrics.objects_processed.unlabelled().increment();
  metrics.latency.unlabelled().observe(seconds_since(start));
  return {};
}

Job::EventOutcome Job::remove_outputs(const events::ObjectEvent& event, Tally& tally,
                                      std::stop_token stop) {
  if (!config_.pipeline.delete_outputs) {
    count_skip("deletes_disabled", event);
    return {};
  }
  const ObjectRef object{event.bucket, event.key, 0, ""};
  std::vector<const Rule*> rules;
  for (const auto& rule : rules_) {
    if (matches_removed(rule.match, object)) rules.push_back(&rule);
  }
  if (rules.empty()) {
    count_skip("no_matching_rule", event);
    return {};
  }
  const auto fail = [&](Error error) {
    tally.failed();
    log_failure(error, event_context(event));
    return EventOutcome{JobStatus::done, std::move(error)};
  };
  // Deleted and uploaded again since: the new object's outputs stay.
  auto source = with_retries(
      "head", event.key, tally,
      [&] { return deps_.store.head_object(event.bucket, event.key, stop); }, stop);
  if (!source) return {JobStatus::cancelled, std::nullopt};
  if (source->ok()) {
    count_skip("source_exists", event);
    return {};
  }
  if (source->error().reason != Reason::object_missing) return fail(source->error());

  const SourceVersion gone{event.bucket, event.key, "", ""};
  int removed = 0;
  for (const Rule* rule : rules) {
    for (const Output& output : rule->outputs) {
      for (const auto& key : output_keys(output, event.key, event.etag)) {
        std::vector<std::string> objects = {key};
        if (output.sidecar) objects.push_back(key + ".json");
        for (const auto& target : objects) {
          auto info = with_retries(
              "head", target, tally,
              [&] { return deps_.store.head_object(output.bucket, target, stop); }, stop);
          if (!info) return {JobStatus::cancelled, std::nullopt};
          if (!info->ok() && info->error().reason == Reason::object_missing) continue;
          if (!info->ok()) return fail(info->error());
          if (!derived_from(info->value(), gone)) continue;  // another source's, or not ours
          auto deleted = with_retries(
              "delete", target, tally,
              [&] { return deps_.store.delete_object(output.bucket, target, stop); }, stop);
          if (!deleted) return {JobStatus::cancelled, std::nullopt};
          if (!deleted->ok()) return fail(deleted->error());
          ++removed;
          Metrics::global().outputs_deleted.unlabelled().increment();
          observe::log_fields(spdlog::level::info, "removed",
                              {{"bucket", event.bucket},
                               {"key", event.key},
                               {"variant", output.name},
                               {"target", output.bucket},
                               {"target_key", target}});
        }
      }
    }
  }
  if (removed == 0) count_skip("no_outputs_to_remove", event);
  return {};
}

}  // namespace imgpipe::pipeline
