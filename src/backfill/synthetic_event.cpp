#include "backfill/synthetic_event.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "events/event.h"
#include "pipeline/job.h"

namespace imgpipe::backfill {
namespace {

constexpr const char* kEventName = "s3:ObjectCreated:Put";

// "2026-12-01T10:00:00.123Z", the form of MinIO's eventTime.
std::string iso8601(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return text;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string listing_sequencer(std::int64_t last_modified_ms) {
  if (last_modified_ms < 0) return "";
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llX",
                static_cast<unsigned long long>(last_modified_ms) * 1'000'000ULL);
  return hex;
}

std::string synthetic_event_json(const std::string& bucket, const s3::ListEntry& object) {
  const std::string escaped_key = events::query_escape(object.key);
  nlohmann::ordered_json s3_object = {
      {"key", escaped_key}, {"size", object.size}, {"eTag", object.etag}};
  const std::string sequencer = listing_sequencer(object.last_modified_ms);
  if (!sequencer.empty()) s3_object["sequencer"] = sequencer;
  const nlohmann::ordered_json record = {
      {"eventVersion", "2.0"},
      {"eventSource", "imgpipe:backfill"},
      {"awsRegion", ""},
      {"eventTime", iso8601(object.last_modified_ms >= 0 ? object.last_modified_ms : now_ms())},
      {"eventName", kEventName},
      {"userIdentity", {{"principalId", "imgpipe-backfill"}}},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", "imgpipe-backfill"},
        {"bucket", {{"name", bucket}, {"arn", "arn:aws:s3:::" + bucket}}},
        {"object", s3_object}}},
      {"source", {{"host", ""}, {"port", ""}, {"userAgent", "imgpipe-backfill"}}},
  };
  const nlohmann::ordered_json envelope = {
      {"EventName", kEventName},
      {"Key", bucket + "/" + object.key},
      {"Records", nlohmann::ordered_json::array({record})},
  };
  return envelope.dump();
}

kafka::Message synthetic_event(const std::string& bucket, const s3::ListEntry& object,
                               ObjectClass why) {
  kafka::Message message;
  message.key = bucket + "/" + object.key;
  message.payload = synthetic_event_json(bucket, object);
  // class_name(ObjectClass::forced) is pipeline::kBackfillForced.
  message.headers = {{pipeline::kBackfillHeader, class_name(why)}};
  return message;
}

}  // namespace imgpipe::backfill
