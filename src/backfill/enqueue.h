// Where `imgpipe backfill` sends the objects whose outputs need work:
//   KafkaEnqueuer   a synthetic event on the event topic (synthetic_event.h),
//                   returning once the broker acknowledged it: the worker
//                   fleet does the work, with all its guarantees;
//   DirectEnqueuer  the same message handed to a handler in this process
//                   (pipeline::Job::handle for --direct);
//   RateLimited     either of them, at most N objects per second (--rate), so
//                   that live uploads are not starved.
// FailureLog is the dead-letter sink of --direct: it keeps what failed for the
// summary instead of a dead-letter topic.
//
// Thread-safety: enqueue() and send() may be called from many threads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "backfill/scan.h"
#include "kafka/producer.h"
#include "pipeline/dead_letter.h"
#include "pipeline/job.h"

namespace imgpipe::backfill {

class KafkaEnqueuer final : public Enqueuer {
 public:
  KafkaEnqueuer(kafka::Producer& producer, std::string topic);
  Status enqueue(const std::string& bucket, const s3::ListEntry& object, ObjectClass why,
                 std::stop_token stop) override;

 private:
  kafka::Producer& producer_;
  std::string topic_;
};

using MessageHandler = std::function<pipeline::JobStatus(const kafka::Message&, std::stop_token)>;

class DirectEnqueuer final : public Enqueuer {
 public:
  explicit DirectEnqueuer(MessageHandler handler);
  Status enqueue(const std::string& bucket, const s3::ListEntry& object, ObjectClass why,
                 std::stop_token stop) override;

 private:
  MessageHandler handler_;
};

// When the next object may go, for objects spaced `interval` apart: never
// before `now`, never closer than `interval` to the one before.
std::chrono::steady_clock::time_point next_slot(std::chrono::steady_clock::time_point previous,
                                                std::chrono::steady_clock::time_point now,
                                                std::chrono::steady_clock::duration interval);

class RateLimited final : public Enqueuer {
 public:
  RateLimited(Enqueuer& inner, double per_second);
  Status enqueue(const std::string& bucket, const s3::ListEntry& object, ObjectClass why,
                 std::stop_token stop) override;

 private:
  Enqueuer& inner_;
  std::chrono::steady_clock::duration interval_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_{};
};

class FailureLog final : public pipeline::DeadLetterSink {
 public:
  struct Failure {
    std::string key;  // bucket/key
    std::string reason;
    std::string message;
  };
  Status send(const kafka::Message& original, const pipeline::DeadLetter& letter,
              std::stop_token stop) override;
  std::vector<Failure> failures() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Failure> failures_;
};

}  // namespace imgpipe::backfill
