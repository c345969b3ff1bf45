#include "pipeline/dead_letter.h"

#include <charconv>
#include <ctime>
#include <map>

namespace imgpipe::pipeline {
namespace {

std::string header_name(std::string_view field) {
  return std::string(kDeadLetterHeaderPrefix) + std::string(field);
}

template <class Number>
bool parse_number(const std::string& text, Number& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string format_utc(std::chrono::system_clock::time_point time) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(since_epoch.count() % 1000));
  return std::string(text, length) + millis;
}

kafka::Headers dead_letter_headers(const kafka::Message& original, const DeadLetter& letter,
                                   const std::string& worker) {
  return {
      {header_name("topic"), original.partition.topic},
      {header_name("partition"), std::to_string(original.partition.partition)},
      {header_name("offset"), std::to_string(original.offset)},
      {header_name("timestamp"), std::to_string(original.timestamp_ms)},
      {header_name("reason"), std::string(reason_name(letter.error.reason))},
      {header_name("message"), letter.error.message},
      {header_name("attempts"), std::to_string(letter.attempts)},
      {header_name("worker"), worker},
      {header_name("first_failure"), format_utc(letter.first_failure)},
  };
}

Result<DeadLetterRecord> parse_dead_letter(const kafka::Message& record) {
  std::map<std::string, std::string> fields;
  for (const auto& [name, value] : record.headers) {
    if (name.starts_with(kDeadLetterHeaderPrefix)) {
      fields[name.substr(std::string_view(kDeadLetterHeaderPrefix).size())] = value;
    }
  }
  const auto missing = [&](const char* field) {
    return make_error(Reason::malformed_event,
                      "dead-letter record at " + record.partition.topic + "[" +
                          std::to_string(record.partition.partition) + "]@" +
                          std::to_string(record.offset) + " lacks a valid " + header_name(field));
  };
  DeadLetterRecord out;
  out.at = record.partition;
  out.at_offset = record.offset;
  out.dead_lettered_ms = record.timestamp_ms;
  out.key = record.key;
  out.value = record.payload;
  for (const char* field : {"topic", "reason"}) {
    if (fields[field].empty()) return missing(field);
  }
  out.topic = fields["topic"];
  out.reason = fields["reason"];
  out.message = fields["message"];
  out.worker = fields["worker"];
  out.first_failure = fields["first_failure"];
  if (!parse_number(fields["partition"], out.partition)) return missing("partition");
  if (!parse_number(fields["offset"], out.offset)) return missing("offset");
  if (!parse_number(fields["timestamp"], out.timestamp_ms)) return missing("timestamp");
  if (!parse_number(fields["attempts"], out.attempts)) return missing("attempts");
  return out;
}

bool selected(const DeadLetterRecord& record, const DeadLetterFilter& filter) {
  if (!filter.reason.empty() && record.reason != filter.reason) return false;
  if (!filter.key_prefix.empty() && !record.key.starts_with(filter.key_prefix)) return false;
  return filter.since_ms < 0 || record.dead_lettered_ms >= filter.since_ms;
}

KafkaDeadLetters::KafkaDeadLetters(kafka::Producer& producer, std::string topic, std::string worker)
    : producer_(producer), topic_(std::move(topic)), worker_(std::move(worker)) {}

Status KafkaDeadLetters::send(const kafka::Message& original, const DeadLetter& letter,
                              std::stop_token stop) {
  return producer_.produce(topic_, original.key, original.payload,
                           dead_letter_headers(original, letter, worker_), std::chrono::seconds(30),
                           std::move(stop));
}

}  // namespace imgpipe::pipeline
