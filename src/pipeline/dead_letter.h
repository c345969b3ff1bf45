// The dead-letter topic: where a message goes when it failed for good, so
// that its offset may move on without losing it. The record keeps the
// original key and value and says in headers where it came from and why it
// failed (in the spirit of Kafka Connect's __connect.errors.* headers):
//
//   imgpipe.errors.topic / .partition / .offset / .timestamp   the original record
//   imgpipe.errors.reason      reason code (reason_name), e.g. not_an_image
//   imgpipe.errors.message     the error message
//   imgpipe.errors.attempts    how many times it was tried
//   imgpipe.errors.worker      which worker gave up on it
//   imgpipe.errors.first_failure  when it first failed, UTC, ISO 8601 (ms)
//
// `imgpipe dlq list` reads these records back (parse_dead_letter), `imgpipe
// dlq replay` puts key and value back on the original topic.
//
// Thread-safety: the functions are pure; KafkaDeadLetters::send may be called
// from many threads (the producer is thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>

#include "common/result.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace imgpipe::pipeline {

inline constexpr const char* kDeadLetterHeaderPrefix = "imgpipe.errors.";

// Why a message is dead-lettered.
struct DeadLetter {
  Error error;
  int attempts = 1;
  std::chrono::system_clock::time_point first_failure;
};

// The headers of the dead-letter record of `original`.
kafka::Headers dead_letter_headers(const kafka::Message& original, const DeadLetter& letter,
                                   const std::string& worker);

// A dead-letter record as read back from the topic.
struct DeadLetterRecord {
  kafka::TopicPartition at;  // where it lies in the dead-letter topic
  std::int64_t at_offset = 0;
  std::int64_t dead_lettered_ms = -1;  // the dead-letter record's timestamp
  std::string key;                     // the original key and value
  std::string value;
  std::string topic;  // where the original was
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = -1;
  std::string reason;
  std::string message;
  int attempts = 0;
  std::string worker;
  std::string first_failure;
};

// Fails with malformed_event when a header imgpipe writes is missing or a
// number does not parse: the record was not written by imgpipe.
Result<DeadLetterRecord> parse_dead_letter(const kafka::Message& record);

// Which records `imgpipe dlq list|replay` takes; empty fields take all.
struct DeadLetterFilter {
  std::string reason;
  std::string key_prefix;      // of the original key ("bucket/key" for MinIO)
  std::int64_t since_ms = -1;  // dead-lettered at or after (Unix ms)
};
bool selected(const DeadLetterRecord& record, const DeadLetterFilter& filter);

// UTC, ISO 8601 with milliseconds: 2026-12-02T01:04:33.123Z
std::string format_utc(std::chrono::system_clock::time_point time);

// Where the Job sends what failed for good. A seam: tests record the letters.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  // Success: the record is stored, the offset may move on. Failure
  // (kafka_error, timeout, cancelled): not stored; the caller tries again or
  // leaves the offset where it is.
  virtual Status send(const kafka::Message& original, const DeadLetter& letter,
                      std::stop_token stop) = 0;
};

class KafkaDeadLetters final : public DeadLetterSink {
 public:
  KafkaDeadLetters(kafka::Producer& producer, std::string topic, std::string worker);
  Status send(const kafka::Message& original, const DeadLetter& letter,
              std::stop_token stop) override;

 private:
  kafka::Producer& producer_;
  std::string topic_;
  std::string worker_;
};

}  // namespace imgpipe::pipeline
