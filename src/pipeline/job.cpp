#include "pipeline/job.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

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

bool has_source_marker(const std::map<std::string, std::string>& metadata) {
  return std::any_of(metadata.begin(), metadata.end(), [](const auto& entry) {
    std::string name = entry.first;
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    return name.ends_with(kSourceEtagMetadata);
  });
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

}  // namespace

bool RealSleeper::sleep_for(std::chrono::milliseconds duration, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  return !wake.wait_for(lock, stop, duration, [] { return false; }) && !stop.stop_requested();
}

Job::Job(const Config& config, s3::ObjectStore& store, Sleeper& sleeper)
    : config_(config), store_(store), sleeper_(sleeper) {
  fit_.width = config.pipeline.width;
  fit_.height = config.pipeline.height;
  fit_.jpeg_quality = config.pipeline.jpeg_quality;
  fit_.webp_quality = config.pipeline.webp_quality;
  limits_.max_input_bytes = static_cast<std::uint64_t>(config.pipeline.max_input_bytes);
  limits_.max_input_pixels = static_cast<std::uint64_t>(config.pipeline.max_input_pixels);
}

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
  if (event.bucket != config_.pipeline.source_bucket) {
    count_skip("other_bucket", event);
    return JobStatus::done;
  }
  if (has_source_marker(event.user_metadata)) {
    count_skip("own_output", event);
    return JobStatus::done;
  }
  return process_object(event, stop);
}

template <class Attempt>
auto Job::with_retries(const char* stage, const std::string& key, Attempt attempt,
                       std::stop_token stop) -> std::optional<decltype(attempt())> {
  auto delay = std::chrono::milliseconds(config_.pipeline.retry_initial_ms);
  const auto max_delay = std::chrono::milliseconds(config_.pipeline.retry_max_ms);
  for (int attempt_number = 1;; ++attempt_number) {
    auto result = attempt();
    if (result.ok() || !is_transient(result.error().reason)) return result;
    Metrics::global().retries.with(std::string(reason_name(result.error().reason))).increment();
    observe::log_fields(spdlog::level::warn, "retrying",
                        {{"stage", stage},
                         {"key", key},
                         {"attempt", attempt_number},
                         {"reason", reason_name(result.error().reason)},
                         {"error", result.error().message},
                         {"backoff_ms", delay.count()}});
    if (!sleeper_.sleep_for(delay, stop)) return std::nullopt;
    delay = std::min(delay * 2, max_delay);
  }
}

JobStatus Job::process_object(const events::ObjectEvent& event, std::stop_token stop) {
  auto& metrics = Metrics::global();
  const auto start = Clock::now();
  const nlohmann::ordered_json context = {{"bucket", event.bucket}, {"key", event.key}};
  // The event says how large the object is: refuse before downloading it.
  if (event.size > limits_.max_input_bytes) {
    count_failure(make_error(Reason::image_too_large, std::to_string(event.size) +
                                                          " bytes exceeds the limit of " +
                                                          std::to_string(limits_.max_input_bytes)),
                  context);
    return JobStatus::done;
  }

  auto object = with_retries(
      "get", event.key, [&] { return store_.get_object(event.bucket, event.key); }, stop);
  if (!object) return JobStatus::cancelled;
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

  const auto transform_start = Clock::now();
  auto encoded = image::fit_within(source.body, fit_, limits_);
  if (!encoded) {
    count_failure(encoded.error(), context);
    return JobStatus::done;
  }
  const double transform_seconds = seconds_since(transform_start);
  metrics.stage_latency.with("transform").observe(transform_seconds);

  const auto put_start = Clock::now();
  s3::PutRequest put;
  put.content_type = encoded->content_type;
  put.metadata[kSourceEtagMetadata] = source.info.etag.empty() ? "unknown" : source.info.etag;
  put.body = encoded->bytes;
  const auto& target = config_.pipeline.target_bucket;
  auto written = with_retries(
      "put", event.key, [&] { return store_.put_object(target, event.key, put); }, stop);
  if (!written) return JobStatus::cancelled;
  if (!written->ok()) {
    count_failure(written->error(), context);
    return JobStatus::done;
  }
  metrics.stage_latency.with("put").observe(seconds_since(put_start));
  metrics.bytes_out.unlabelled().increment(static_cast<double>(encoded->bytes.size()));
  metrics.objects_processed.unlabelled().increment();
  const double total = seconds_since(start);
  metrics.latency.unlabelled().observe(total);

  observe::log_fields(spdlog::level::info, "processed",
                      {{"bucket", event.bucket},
                       {"key", event.key},
                       {"event", event.event_name},
                       {"target", target},
                       {"input_bytes", source.body.size()},
                       {"input_width", encoded->input.width},
                       {"input_height", encoded->input.height},
                       {"input_format", encoded->input.format},
                       {"output_bytes", encoded->bytes.size()},
                       {"output_width", encoded->width},
                       {"output_height", encoded->height},
                       {"output_format", encoded->format},
                       {"get_ms", static_cast<long>(get_seconds * 1000)},
                       {"transform_ms", static_cast<long>(transform_seconds * 1000)},
                       {"ms", static_cast<long>(total * 1000)}});
  return JobStatus::done;
}

}  // namespace imgpipe::pipeline
