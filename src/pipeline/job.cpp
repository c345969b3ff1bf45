#include "pipeline/job.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>

#include "observe/log.h"
#include "observe/metrics.h"

namespace imgpipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using observe::Metrics;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string_view kind_name(events::EventKind kind) {
  switch (kind) {
    case events::EventKind::created: return "created";
    case events::EventKind::removed: return "removed";
    case events::EventKind::accessed: return "accessed";
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

void count_failure(const Error& error, const nlohmann::ordered_json& context) {
  Metrics::global().objects_failed.with(std::string(reason_name(error.reason))).increment();
  nlohmann::ordered_json fields = context;
  fields["reason"] = reason_name(error.reason);
  fields["error"] = error.message;
  observe::log_fields(spdlog::level::warn, "failed", fields);
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
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  return !wake.wait_for(lock, stop, duration, [] { return false; }) && !stop.stop_requested();
}

Job::Job(const Config& config, s3::ObjectStore& store, Sleeper& sleeper, UnitRandom random)
    : config_(config),
      store_(store),
      sleeper_(sleeper),
      random_(random ? std::move(random) : UnitRandom(default_unit_random)),
      rules_(config.effective_rules()),
      limits_(config.limits()) {}

JobStatus Job::handle(const kafka::Message& message, std::stop_token stop) {
  auto parsed = events::parse_event_message(message.payload);
  if (!parsed) {
    count_failure(parsed.error(), {{"topic", message.partition.topic},
                                   {"partition", message.partition.partition},
                                   {"offset", message.offset}});
    return JobStatus::done;
  }
  for (const auto& event : parsed.value()) {
    if (handle_event(event, stop) == JobStatus::cancelled) return JobStatus::cancelled;
  }
  return JobStatus::done;
}

JobStatus Job::handle_event(const events::ObjectEvent& event, std::stop_token stop) {
  Metrics::global().events_received.with(std::string(kind_name(event.kind))).increment();
  if (event.kind != events::EventKind::created) {
    count_skip("not_a_create_event", event);
    return JobStatus::done;
  }
  if (has_source_marker(event.user_metadata)) {
    count_skip("own_output", event);
    return JobStatus::done;
  }
  const ObjectRef object{event.bucket, event.key, event.size, event.content_type};
  const auto rules = matching_rules(rules_, object);
  if (rules.empty()) {
    count_skip("no_matching_rule", event);
    return JobStatus::done;
  }
  return process_object(event, rules, stop);
}

template <class Attempt>
auto Job::with_retries(const char* stage, const std::string& key, Attempt attempt,
                       std::stop_token stop) -> std::optional<decltype(attempt())> {
  auto delay = std::chrono::milliseconds(config_.pipeline.retry_initial_ms);
  const auto max_delay = std::chrono::milliseconds(config_.pipeline.retry_max_ms);
  for (int attempt_number = 1;; ++attempt_number) {
    auto result = attempt();
    // Shutdown aborted the request under way: interrupted, never retried.
    if (!result.ok() && result.error().reason == Reason::cancelled) return std::nullopt;
    if (result.ok() || !is_transient(result.error().reason)) return result;
    Metrics::global().retries.with(std::string(reason_name(result.error().reason))).increment();
    observe::log_fields(spdlog::level::warn, "retrying",
                        {{"stage", stage},
                         {"key", key},
                         {"attempt", attempt_number},
                         {"reason", reason_name(result.error().reason)},
                         {"error", result.error().message},
                         {"backoff_ms", delay.count()}});
    if (!sleeper_.sleep_for(jittered(delay, random_()), stop)) return std::nullopt;
    delay = std::min(delay * 2, max_delay);
  }
}

std::optional<Status> Job::write(const Product& product, std::stop_token stop) {
  s3::PutRequest put;
  put.content_type = product.content_type;
  put.metadata = product.metadata;
  put.body = product.body;
  put.stop = stop;
  auto written = with_retries(
      "put", product.key, [&] { return store_.put_object(product.bucket, product.key, put); },
      stop);
  if (!written) return std::nullopt;
  if (!written->ok()) return Status(written->error());
  if (product.sidecar_key.empty()) return ok_status();

  s3::PutRequest sidecar;
  sidecar.content_type = "application/json";
  sidecar.metadata[kSourceEtagMetadata] = product.metadata.at(kSourceEtagMetadata);
  sidecar.body = product.sidecar_body;
  sidecar.stop = stop;
  auto stored = with_retries(
      "put", product.sidecar_key,
      [&] { return store_.put_object(product.bucket, product.sidecar_key, sidecar); }, stop);
  if (!stored) return std::nullopt;
  if (!stored->ok()) return Status(stored->error());
  return ok_status();
}

class Job::StoreSink final : public ProductSink {
 public:
  StoreSink(Job& job, const events::ObjectEvent& event, std::size_t input_bytes, double get_seconds,
            Clock::time_point start, std::stop_token stop)
      : job_(job),
        event_(event),
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
    auto written = job_.write(product, stop_);
    if (!written || !written->ok()) return written;
    metrics.stage_latency.with("put").observe(seconds_since(put_start));
    metrics.bytes_out.unlabelled().increment(static_cast<double>(product.body.size()));
    metrics.outputs_written.with(product.variant).increment();
    log_processed(rule, product);
    return written;
  }

 private:
  void log_processed(const Rule& rule, const Product& product) const {
    observe::log_fields(spdlog::level::info, "processed",
                        {{"bucket", event_.bucket},
                         {"key", event_.key},
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
  std::size_t input_bytes_;
  double get_seconds_;
  Clock::time_point start_;
  std::stop_token stop_;
};

JobStatus Job::process_object(const events::ObjectEvent& event,
                              const std::vector<const Rule*>& rules, std::stop_token stop) {
  auto& metrics = Metrics::global();
  const auto start = Clock::now();
  const nlohmann::ordered_json context = {{"bucket", event.bucket}, {"key", event.key}};
  // The event says how large the object was: refuse before downloading it.
  // What is current may be larger (overwritten since), so the GET is capped
  // at the same limit too.
  if (event.size > limits_.max_input_bytes) {
    count_failure(make_error(Reason::too_many_bytes, std::to_string(event.size) +
                                                         " bytes exceeds the limit of " +
                                                         std::to_string(limits_.max_input_bytes)),
                  context);
    return JobStatus::done;
  }

  auto object = with_retries(
      "get", event.key,
      [&] {
        return store_.get_object(event.bucket, event.key,
                                 s3::GetOptions{limits_.max_input_bytes, event.etag, stop});
      },
      stop);
  if (!object) return JobStatus::cancelled;
  if (!object->ok() && object->error().reason == Reason::source_changed) {
    // Overwritten since this event: the newer version's own event renders it.
    count_skip("superseded", event);
    return JobStatus::done;
  }
  if (!object->ok()) {
    count_failure(object->error(), context);
    return JobStatus::done;
  }
  const s3::Object& source = object->value();
  if (has_source_marker(source.info.metadata)) {
    count_skip("own_output", event);
    return JobStatus::done;
  }
  metrics.bytes_in.unlabelled().increment(static_cast<double>(source.body.size()));
  const double get_seconds = seconds_since(start);
  metrics.stage_latency.with("get").observe(get_seconds);

  const ObjectRef ref{event.bucket, event.key, source.body.size(), source.info.content_type};
  StoreSink sink(*this, event, source.body.size(), get_seconds, start, stop);
  const ObjectOutcome outcome =
      write_products(rules, ref, source.body, source.info.etag, limits_, sink);
  if (outcome.interrupted) return JobStatus::cancelled;
  if (outcome.first_failure) {
    count_failure(*outcome.first_failure, context);
    return JobStatus::done;
  }
  metrics.objects_processed.unlabelled().increment();
  metrics.latency.unlabelled().observe(seconds_since(start));
  return JobStatus::done;
}

}  // namespace imgpipe::pipeline
