// The S3 bucket-notification event model and its parser.
//
// MinIO publishes one Kafka message per event with the value
//   {"EventName": "...", "Key": "bucket/key", "Records": [ {...} ]}
// AWS S3 and versitygw send {"Records": [...]} without the envelope; both
// shapes are accepted. parse_event_message() turns such a message into typed
// records with the object key decoded. It never throws; every malformed input
// yields Reason::malformed_event with a message saying what is wrong.
//
// What differs between the servers (docs/s3-servers.md):
// - Keys: MinIO and AWS query-escape them ("a+b%2Fc.jpg"); versitygw writes
//   them as they are ("a b/c.jpg"). KeyEncoding::detect tells them apart by
//   versitygw's bucket ARN, which has a '/' after "arn:aws:s3:::" (a bucket
//   name never starts with one).
// - Bucket and key: versitygw's bucket.name (and a key without '/') may name
//   another request's object (filled from a reused buffer after the request
//   ended); its ARN is reliable, and both are taken from there.
// - Sequencers: versitygw's is a counter of the gateway process that starts
//   again at 1 on every restart; it orders nothing and is dropped (empty).
// - ETags: versitygw quotes them; quotes are removed.
// - Test messages: AWS (on notification set-up) and versitygw (on every start)
//   send {"Service":"...","Event":"s3:TestEvent",...}: one ObjectEvent of kind
//   `test` with the bucket named there and no key.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace imgpipe::events {

enum class EventKind { created, removed, accessed, test, other };

// How object keys are written in event records.
enum class KeyEncoding {
  detect,  // query-escaped, unless the record is versitygw's (see above)
  query,   // always query-escaped (MinIO, AWS)
  raw,     // always as they are (versitygw)
};

struct ObjectEvent {
  std::string event_name;  // e.g. "s3:ObjectCreated:Put"
  EventKind kind = EventKind::other;
  std::string bucket;
  std::string key;  // decoded: "a b/c.jpg", not "a+b%2Fc.jpg"
  std::uint64_t size = 0;
  std::string etag;
  std::string content_type;
  std::string sequencer;
  std::string event_time;
  std::map<std::string, std::string> user_metadata;
};

// Parses one Kafka message value. Success: at least one record.
Result<std::vector<ObjectEvent>> parse_event_message(std::string_view json,
                                                     KeyEncoding keys = KeyEncoding::detect);

// The setting's spellings: "detect", "query", "raw".
const std::vector<std::string>& key_encoding_names();
KeyEncoding key_encoding_from_name(std::string_view name);  // unknown: detect

// Decodes Go's url.QueryEscape form: '+' is a space, %XX is a byte.
// Fails on a truncated or non-hex escape.
Result<std::string> query_unescape(std::string_view escaped);

// The inverse, Go's url.QueryEscape as MinIO applies it to event keys:
// A-Z a-z 0-9 - _ . ~ kept, space as '+', every other byte %XX (upper case).
std::string query_escape(std::string_view text);

EventKind classify_event_name(std::string_view event_name);

}  // namespace imgpipe::events
