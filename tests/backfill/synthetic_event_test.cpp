#include "backfill/synthetic_event.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "backfill/enqueue.h"
#include "events/event.h"
#include "pipeline/job.h"

namespace imgpipe::backfill {
namespace {

TEST(SyntheticEvent, ParsesBackAsTheObjectWithEveryKeyEscapedLikeMinio) {
  for (const std::string key :
       {"plain.jpg", "holiday 2026/day one/a+b.jpg", "100% real/x.png", "ünïcödé/日本/x.webp"}) {
    const s3::ListEntry entry{key, 1234, "0123abc-2", 1'700'000'000'123};
    auto events = events::parse_event_message(synthetic_event_json("raw", entry));
    ASSERT_TRUE(events) << events.error().message;
    ASSERT_EQ(events->size(), 1u);
    const auto& event = events->front();
    EXPECT_EQ(event.kind, events::EventKind::created);
    EXPECT_EQ(event.bucket, "raw");
    EXPECT_EQ(event.key, key);
    EXPECT_EQ(event.size, 1234u);
    EXPECT_EQ(event.etag, "0123abc-2");
    EXPECT_EQ(event.sequencer, listing_sequencer(1'700'000'000'123));
    EXPECT_EQ(event.event_time, "2023-11-14T22:13:20.123Z");
  }
}

TEST(SyntheticEvent, IsKeyedLikeMinioAndSaysWhereItComesFrom) {
  const s3::ListEntry entry{"a b/c.jpg", 1, "e", 1};
  const auto message = synthetic_event("raw", entry, ObjectClass::stale);
  EXPECT_EQ(message.key, "raw/a b/c.jpg");
  ASSERT_EQ(message.headers.size(), 1u);
  EXPECT_EQ(message.headers[0].first, pipeline::kBackfillHeader);
  EXPECT_EQ(message.headers[0].second, "stale");
  const auto json = nlohmann::json::parse(message.payload);
  EXPECT_EQ(json["Records"][0]["eventSource"], "imgpipe:backfill");
  EXPECT_EQ(json["Records"][0]["s3"]["object"]["key"], "a+b%2Fc.jpg");
  EXPECT_EQ(synthetic_event("raw", entry, ObjectClass::forced).headers[0].second,
            pipeline::kBackfillForced);
}

TEST(ListingSequencer, IsTheModificationTimeInNanosecondsInUpperCaseHex) {
  EXPECT_EQ(listing_sequencer(1000), "3B9ACA00");  // 10^9 ns
  EXPECT_EQ(listing_sequencer(-1), "");
}

TEST(RateLimit, SpacesObjectsByTheIntervalAndNeverSchedulesInThePast) {
  using namespace std::chrono_literals;
  const std::chrono::steady_clock::time_point zero{};
  EXPECT_EQ(next_slot(zero + 10s, zero + 10s, 100ms), zero + 10s + 100ms);
  EXPECT_EQ(next_slot(zero + 10s, zero + 20s, 100ms), zero + 20s);  // idle for a while: now
}

}  // namespace
}  // namespace imgpipe::backfill
