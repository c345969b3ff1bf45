// The events `imgpipe backfill` puts on the event topic for objects whose
// outputs need work: the JSON shape MinIO sends for s3:ObjectCreated:Put
// (envelope with EventName and Key, one record, the key query-escaped like
// MinIO's), keyed "bucket/key" like MinIO's Kafka target, so that the worker
// and anything else reading the topic treat it as an ordinary upload. What
// marks it as a backfill: eventSource "imgpipe:backfill", userAgent
// "imgpipe-backfill", and the Kafka header imgpipe.backfill (pipeline/job.h)
// saying why it was enqueued.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "backfill/scan.h"
#include "kafka/consumer.h"

namespace imgpipe::backfill {

// The sequencer of a listed object: its LastModified in nanoseconds, in
// upper-case hex like MinIO's (which uses the exact modification time, so
// a listing's millisecond value is never above the real one). Empty when
// the listing gave no time.
std::string listing_sequencer(std::int64_t last_modified_ms);

// The message value for `object` in `bucket`.
std::string synthetic_event_json(const std::string& bucket, const s3::ListEntry& object);

// The whole record: key, value and the imgpipe.backfill header.
kafka::Message synthetic_event(const std::string& bucket, const s3::ListEntry& object,
                               ObjectClass why);

}  // namespace imgpipe::backfill
