#include "backfill/enqueue.h"

#include <algorithm>

#include "backfill/synthetic_event.h"
#include "common/sleep.h"

namespace imgpipe::backfill {

KafkaEnqueuer::KafkaEnqueuer(kafka::Producer& producer, std::string topic)
    : producer_(producer), topic_(std::move(topic)) {}

Status KafkaEnqueuer::enqueue(const std::string& bucket, const s3::ListEntry& object,
                              ObjectClass why, std::stop_token stop) {
  const auto message = synthetic_event(bucket, object, why);
  return producer_.produce(topic_, message.key, message.payload, message.headers,
                           std::chrono::seconds(30), stop);
}

DirectEnqueuer::DirectEnqueuer(MessageHandler handler) : handler_(std::move(handler)) {}

Status DirectEnqueuer::enqueue(const std::string& bucket, const s3::ListEntry& object,
                               ObjectClass why, std::stop_token stop) {
  auto message = synthetic_event(bucket, object, why);
  message.partition = {"backfill", -1};
  message.offset = -1;
  if (handler_(message, stop) == pipeline::JobStatus::cancelled) {
    return make_error(Reason::cancelled, "interrupted while processing " + message.key);
  }
  return ok_status();
}

std::chrono::steady_clock::time_point next_slot(std::chrono::steady_clock::time_point previous,
                                                std::chrono::steady_clock::time_point now,
                                                std::chrono::steady_clock::duration interval) {
  return std::max(now, previous + interval);
}

RateLimited::RateLimited(Enqueuer& inner, double per_second)
    : inner_(inner),
      interval_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(1.0 / std::max(per_second, 0.001)))) {}

Status RateLimited::enqueue(const std::string& bucket, const s3::ListEntry& object, ObjectClass why,
                            std::stop_token stop) {
  std::chrono::steady_clock::time_point slot;
  {
    std::lock_guard lock(mutex_);
    slot = next_slot(last_, std::chrono::steady_clock::now(), interval_);
    last_ = slot;
  }
  if (!sleep_until(slot, stop)) return make_error(Reason::cancelled, "stopped");
  return inner_.enqueue(bucket, object, why, stop);
}

Status FailureLog::send(const kafka::Message& original, const pipeline::DeadLetter& letter,
                        std::stop_token /*stop*/) {
  std::lock_guard lock(mutex_);
  failures_.push_back(
      {original.key, std::string(reason_name(letter.error.reason)), letter.error.message});
  return ok_status();
}

std::vector<FailureLog::Failure> FailureLog::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

}  // namespace imgpipe::backfill
