#include "pipeline/dead_letter_probe.h"

#include <cstdint>
#include <exception>

#include "common/sleep.h"
#include "observe/log.h"

namespace imgpipe::pipeline {
namespace {

using Watermarks = Result<std::vector<kafka::PartitionWatermarks>>;

// What the source answers; an exception is a failed read, not a dead thread.
Watermarks read_from(const DeadLetterTopicProbe::WatermarkSource& source) {
  try {
    return source();
  } catch (const std::exception& exception) {
    return make_error(Reason::internal, std::string("watermark source threw: ") + exception.what());
  }
}

}  // namespace

DeadLetterTopicProbe::DeadLetterTopicProbe(observe::Metrics& metrics, std::string topic,
                                           WatermarkSource source)
    : metrics_(metrics), topic_(std::move(topic)), source_(std::move(source)) {}

DeadLetterTopicProbe::~DeadLetterTopicProbe() {
  thread_.request_stop();
}

bool DeadLetterTopicProbe::refresh() {
  std::lock_guard lock(mutex_);
  const Watermarks read = read_from(source_);
  if (!read) {
    // A topic found missing may come back with fewer partitions.
    if (read.error().reason == Reason::object_missing) partitions_seen_ = 0;
    failed(read.error());
    return false;
  }
  const auto& partitions = read.value();
  if (partitions.size() < partitions_seen_) {
    failed(make_error(Reason::kafka_error,
                      "found " + std::to_string(partitions.size()) + " partitions after " +
                          std::to_string(partitions_seen_) + " (one without a leader?)"));
    return false;
  }
  partitions_seen_ = partitions.size();
  std::int64_t records = 0;
  for (const auto& partition : partitions) {
    if (partition.high > partition.low) records += partition.high - partition.low;
  }
  metrics_.dead_letter_topic_records.unlabelled().set(static_cast<double>(records));
  if (failing_) {
    observe::log_fields(spdlog::level::info, "dead-letter topic readable again",
                        {{"topic", topic_}, {"records", records}});
  }
  failing_ = false;
  return true;
}

void DeadLetterTopicProbe::failed(const Error& error) {
  observe::log_fields(failing_ ? spdlog::level::debug : spdlog::level::warn,
                      "cannot read the size of the dead-letter topic; "
                      "imgpipe_dead_letter_topic_records keeps its last value",
                      {{"topic", topic_},
                       {"reason", std::string(reason_name(error.reason))},
                       {"error", error.message}});
  failing_ = true;
}

void DeadLetterTopicProbe::start(std::chrono::milliseconds interval) {
  thread_ = std::jthread([this, interval](std::stop_token stop) {
    do {
      // refresh() turns the source's exceptions into failed reads; this
      // catches the rest (a log line out of memory): skip one round.
      try {
        refresh();
      } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to report it with
      }
    } while (sleep_for(interval, stop));
  });
}

}  // namespace imgpipe::pipeline
