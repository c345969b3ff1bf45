#include "pipeline/dead_letter.h"

#include <gtest/gtest.h>

namespace imgpipe::pipeline {
namespace {

kafka::Message original() {
  return kafka::Message{{"bucket-events", 3}, 41, "raw/a.jpg", "{\"Records\":[]}",
                        1700000000123,        {}};
}

DeadLetter letter() {
  return DeadLetter{
      make_error(Reason::decode_failed, "VipsJpeg: premature end of file"), 2,
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000456))};
}

std::string header(const kafka::Headers& headers, const std::string& name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "(absent)";
}

TEST(DeadLetterTest, HeadersSayWhereTheMessageCameFromAndWhyItFailed) {
  const auto headers = dead_letter_headers(original(), letter(), "worker-1");
  EXPECT_EQ(header(headers, "imgpipe.errors.topic"), "bucket-events");
  EXPECT_EQ(header(headers, "imgpipe.errors.partition"), "3");
  EXPECT_EQ(header(headers, "imgpipe.errors.offset"), "41");
  EXPECT_EQ(header(headers, "imgpipe.errors.timestamp"), "1700000000123");
  EXPECT_EQ(header(headers, "imgpipe.errors.reason"), "decode_failed");
  EXPECT_EQ(header(headers, "imgpipe.errors.message"), "VipsJpeg: premature end of file");
  EXPECT_EQ(header(headers, "imgpipe.errors.attempts"), "2");
  EXPECT_EQ(header(headers, "imgpipe.errors.worker"), "worker-1");
  EXPECT_EQ(header(headers, "imgpipe.errors.first_failure"), "2023-11-14T22:13:20.456Z");
}

TEST(DeadLetterTest, ARecordReadsBackAsItWasWritten) {
  kafka::Message stored{{"bucket-events.dlq", 0}, 9, "raw/a.jpg", "{\"Records\":[]}", 1, {}};
  stored.headers = dead_letter_headers(original(), letter(), "worker-1");
  stored.headers.emplace_back("unrelated", "header");
  auto record = parse_dead_letter(stored);
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->at.topic, "bucket-events.dlq");
  EXPECT_EQ(record->at_offset, 9);
  EXPECT_EQ(record->key, "raw/a.jpg");
  EXPECT_EQ(record->value, "{\"Records\":[]}");
  EXPECT_EQ(record->topic, "bucket-events");
  EXPECT_EQ(record->partition, 3);
  EXPECT_EQ(record->offset, 41);
  EXPECT_EQ(record->timestamp_ms, 1700000000123);
  EXPECT_EQ(record->reason, "decode_failed");
  EXPECT_EQ(record->attempts, 2);
  EXPECT_EQ(record->worker, "worker-1");
  EXPECT_EQ(record->first_failure, "2023-11-14T22:13:20.456Z");
}

TEST(DeadLetterTest, ARecordWithoutImgpipeHeadersIsRefusedWithTheMissingOne) {
  kafka::Message stored{{"bucket-events.dlq", 0}, 9, "k", "v", 1, {}};
  stored.headers = dead_letter_headers(original(), letter(), "w");
  for (auto& [name, value] : stored.headers) {
    if (name == "imgpipe.errors.offset") value = "forty-one";
  }
  auto record = parse_dead_letter(stored);
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.error().reason, Reason::malformed_event);
  EXPECT_NE(record.error().message.find("imgpipe.errors.offset"), std::string::npos);
  EXPECT_FALSE(parse_dead_letter(kafka::Message{{"t", 0}, 0, "k", "v", 1, {}}).ok());
}

}  // namespace
}  // namespace imgpipe::pipeline
