#include "events/event.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace imgpipe::events {
namespace {

// Shaped like a message MinIO's Kafka target publishes (internal/event in MinIO).
std::string minio_message(
    const std::string& event_name, const std::string& escaped_key,
    const std::string& object_extra =
        R"("size":2048,"eTag":"d41d8cd98f00b204e9800998ecf8427e","contentType":"image/jpeg","userMetadata":{"content-type":"image/jpeg","X-Amz-Meta-Origin":"camera"},)") {
  return R"({"EventName":")" + event_name +
         R"(","Key":"raw/ignored","Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-27T10:11:12.345Z","eventName":")" +
         event_name +
         R"(","userIdentity":{"principalId":"imgpipe"},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"raw","ownerIdentity":{"principalId":"imgpipe"},"arn":"arn:aws:s3:::raw"},"object":{"key":")" +
         escaped_key + R"(",)" + object_extra +
         R"("sequencer":"187A9C1D2E3F4A5B"}},"source":{"host":"127.0.0.1","port":"","userAgent":"curl"}}]})";
}

// A message captured from a real server (tests/events/data/README.md).
std::string captured(const std::string& name) {
  std::ifstream file(std::string(IMGPIPE_EVENTS_TEST_DATA) + "/" + name);
  EXPECT_TRUE(file.good()) << name;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(ParseEventMessage, ReadsEveryFieldOfAMinioPutEvent) {
  auto events = parse_event_message(minio_message("s3:ObjectCreated:Put", "photo.jpg"));
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), 1u);
  const ObjectEvent& event = events->front();
  EXPECT_EQ(event.event_name, "s3:ObjectCreated:Put");
  EXPECT_EQ(event.kind, EventKind::created);
  EXPECT_EQ(event.bucket, "raw");
  EXPECT_EQ(event.key, "photo.jpg");
  EXPECT_EQ(event.size, 2048u);
  EXPECT_EQ(event.etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(event.content_type, "image/jpeg");
  EXPECT_EQ(event.sequencer, "187A9C1D2E3F4A5B");
  EXPECT_EQ(event.event_time, "2026-11-27T10:11:12.345Z");
  EXPECT_EQ(event.user_metadata.at("X-Amz-Meta-Origin"), "camera");
}

TEST(ParseEventMessage, DecodesSpacesPlusSignsSlashesAndUnicodeInKeys) {
  // url.QueryEscape("holiday 2026/über+más 100%.jpg")
  auto events = parse_event_message(
      minio_message("s3:ObjectCreated:Put", "holiday+2026%2F%C3%BCber%2Bm%C3%A1s+100%25.jpg"));
  ASSERT_TRUE(events.ok()) << events.error().message;
  EXPECT_EQ(events->front().key, "holiday 2026/über+más 100%.jpg");
}

TEST(ParseEventMessage, ClassifiesMultipartRemoveAndAccessEvents) {
  auto multipart =
      parse_event_message(minio_message("s3:ObjectCreated:CompleteMultipartUpload", "big.jpg"));
  auto removed = parse_event_message(minio_message("s3:ObjectRemoved:Delete", "gone.jpg", ""));
  auto accessed = parse_event_message(minio_message("s3:ObjectAccessed:Get", "read.jpg"));
  ASSERT_TRUE(multipart.ok() && removed.ok() && accessed.ok());
  EXPECT_EQ(multipart->front().kind, EventKind::created);
  EXPECT_EQ(removed->front().kind, EventKind::removed);
  EXPECT_EQ(removed->front().size, 0u) << "remove events carry no size";
  EXPECT_EQ(accessed->front().kind, EventKind::accessed);
}

TEST(ParseEventMessage, ReturnsEveryRecordOfAnAwsStyleMessageWithoutEnvelope) {
  const std::string message = R"({"Records":[
    {"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"raw"},"object":{"key":"a.jpg","size":1}}},
    {"eventName":"ObjectCreated:Copy","s3":{"bucket":{"name":"raw"},"object":{"key":"b%20c.png","size":2}}}]})";
  auto events = parse_event_message(message);
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].key, "a.jpg");
  EXPECT_EQ((*events)[1].key, "b c.png");
  EXPECT_EQ((*events)[1].kind, EventKind::created);
}

struct MalformedCase {
  const char* name;
  const char* message;
  const char* expected_fragment;
};

class MalformedMessage : public testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedMessage, IsRejectedWithAMalformedEventReason) {
  auto events = parse_event_message(GetParam().message);
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.error().reason, Reason::malformed_event);
  EXPECT_NE(events.error().message.find(GetParam().expected_fragment), std::string::npos)
      << events.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    ParseEventMessage, MalformedMessage,
    testing::Values(
        MalformedCase{"not_json", "hello world", "not valid JSON"},
        MalformedCase{"empty", "", "not valid JSON"},
        MalformedCase{"array", "[1,2]", "not a JSON object"},
        MalformedCase{"no_records", R"({"EventName":"s3:ObjectCreated:Put"})", "no Records"},
        MalformedCase{"records_not_array", R"({"Records":{}})", "no Records"},
        MalformedCase{"records_empty", R"({"Records":[]})", "Records is empty"},
        MalformedCase{"record_not_object", R"({"Records":[42]})", "Records[0] is not an object"},
        MalformedCase{"no_event_name", R"({"Records":[{"s3":{}}]})", "eventName is missing"},
        MalformedCase{"no_s3", R"({"Records":[{"eventName":"s3:ObjectCreated:Put"}]})",
                      "s3 is missing"},
        MalformedCase{"no_bucket_name",
                      R"({"Records":[{"eventName":"x","s3":{"bucket":{},"object":{"key":"k"}}}]})",
                      "bucket.name is missing"},
        MalformedCase{"no_key",
                      R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":"b"},"object":{}}}]})",
                      "object.key is missing"},
        MalformedCase{
            "bad_escape",
            R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":"b"},"object":{"key":"a%zz"}}}]})",
            "invalid percent escape"},
        MalformedCase{
            "truncated_escape",
            R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":"b"},"object":{"key":"a%4"}}}]})",
            "truncated percent escape"},
        MalformedCase{"truncated_json", R"({"Records":[{"eventName":)", "not valid JSON"}),
    [](const testing::TestParamInfo<MalformedCase>& param_info) { return param_info.param.name; });

TEST(QueryUnescape, LeavesUnreservedCharactersAlone) {
  auto decoded = query_unescape("a-b_c.d~e");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value(), "a-b_c.d~e");
}

TEST(QueryUnescape, AcceptsLowerCaseHex) {
  auto decoded = query_unescape("%c3%bc");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value(), "ü");
}

TEST(ClassifyEventName, TreatsUnknownNamesAsOther) {
  EXPECT_EQ(classify_event_name("s3:Replication:OperationFailedReplication"), EventKind::other);
  EXPECT_EQ(classify_event_name(""), EventKind::other);
}

TEST(QueryEscape, EscapesLikeGoAndRoundTripsThroughUnescape) {
  EXPECT_EQ(query_escape("holiday 2026/a+b 100%.jpg"), "holiday+2026%2Fa%2Bb+100%25.jpg");
  EXPECT_EQ(query_escape("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(query_escape("ü"), "%C3%BC");
  for (const std::string key : {"a b/c", "ünïcödé/日本/x.png", "100% real/+/~", ""}) {
    auto back = query_unescape(query_escape(key));
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), key);
  }
}

TEST(CapturedMinioMessage, QueryEscapedKeyIsDecoded) {
  auto events = parse_event_message(captured("minio-put.json"));
  ASSERT_TRUE(events.ok()) << events.error().message;
  const ObjectEvent& event = events->front();
  EXPECT_EQ(event.kind, EventKind::created);
  EXPECT_EQ(event.bucket, "capture");
  EXPECT_EQ(event.key, "a b+c%d/été.txt");
  EXPECT_EQ(event.etag, "49f68a5c8493ec2c0bf489821c21fc3b");
  EXPECT_EQ(event.sequencer, "18ED6867F5B58264");
  EXPECT_EQ(event.content_type, "text/plain");
  EXPECT_EQ(event.user_metadata.at("X-Amz-Meta-Origin"), "camera");
  auto removed = parse_event_message(captured("minio-delete.json"));
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(removed->front().kind, EventKind::removed);
  EXPECT_EQ(removed->front().key, "a b+c%d/été.txt");
}

TEST(CapturedVersitygwMessage, RawKeyIsTakenAsItIs) {
  auto events = parse_event_message(captured("versitygw-put.json"));
  ASSERT_TRUE(events.ok()) << events.error().message;
  const ObjectEvent& event = events->front();
  EXPECT_EQ(event.kind, EventKind::created);
  EXPECT_EQ(event.bucket, "src");
  EXPECT_EQ(event.key, "a b+c%d/été.txt");
  EXPECT_EQ(event.size, 2u);
  EXPECT_EQ(event.etag, "49f68a5c8493ec2c0bf489821c21fc3b") << "quotes removed";
  EXPECT_EQ(event.sequencer, "") << "a per-process counter orders nothing";

  auto query = parse_event_message(captured("versitygw-put-query-characters.json"));
  ASSERT_TRUE(query.ok()) << query.error().message;
  EXPECT_EQ(query->front().key, "x/y?z#w&q=1.jpg");

  auto removed = parse_event_message(captured("versitygw-delete.json"));
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(removed->front().kind, EventKind::removed);
  EXPECT_EQ(removed->front().key, "plus+only.jpg") << "not 'plus only.jpg'";
}

// Under concurrent requests versitygw's name and key fields may describe
// another request; its ARN describes this one (see event.h).
TEST(CapturedVersitygwMessage, BucketAndKeyComeFromTheArnWhenTheFieldsNameAnotherRequest) {
  auto bucket = parse_event_message(captured("versitygw-put-bucket-from-another-request.json"));
  ASSERT_TRUE(bucket.ok()) << bucket.error().message;
  EXPECT_EQ(bucket->front().bucket, "repro-bb-85be6b-longer") << "not 'repro-a-85be6b/k0237.j'";
  EXPECT_EQ(bucket->front().key, "dir/other0237.jpg");
  EXPECT_EQ(bucket->front().size, 2000u);

  auto key = parse_event_message(captured("versitygw-put-key-from-another-request.json"));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->front().bucket, "repro-a-85be6b");
  EXPECT_EQ(key->front().key, "k0193.jpg") << "not its neighbour k0194.jpg";
}

TEST(CapturedVersitygwMessage, AMultiObjectDeleteTakesItsKeyFromTheRecordAndItsBucketFromTheArn) {
  auto removed = parse_event_message(captured("versitygw-delete-objects.json"));
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(removed->front().kind, EventKind::removed);
  EXPECT_EQ(removed->front().event_name, "s3:ObjectRemoved:DeleteObjects");
  EXPECT_EQ(removed->front().bucket, "multidel-22f764");
  EXPECT_EQ(removed->front().key, "one.jpg");
}

TEST(ParseEventMessage, AVersitygwArnWithoutBucketIsMalformed) {
  auto events = parse_event_message(
      R"({"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"b","arn":"arn:aws:s3:::/"},"object":{"key":"k.jpg"}}}]})");
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.error().reason, Reason::malformed_event);
}

TEST(CapturedVersitygwMessage, ForcedQueryDecodingGetsItsKeysWrongOrFails) {
  auto plus = parse_event_message(captured("versitygw-delete.json"), KeyEncoding::query);
  ASSERT_TRUE(plus.ok());
  EXPECT_EQ(plus->front().key, "plus only.jpg");
  auto percent = parse_event_message(captured("versitygw-put.json"), KeyEncoding::query);
  ASSERT_FALSE(percent.ok());
  EXPECT_EQ(percent.error().reason, Reason::malformed_event);
}

TEST(ParseEventMessage, RawKeysCanBeForcedForAServerThatIsNotRecognised) {
  auto events =
      parse_event_message(minio_message("s3:ObjectCreated:Put", "100%+sure.jpg"), KeyEncoding::raw);
  ASSERT_TRUE(events.ok()) << events.error().message;
  EXPECT_EQ(events->front().key, "100%+sure.jpg");
}

TEST(CapturedVersitygwMessage, StartupTestEventIsOneTestRecordWithoutKey) {
  auto events = parse_event_message(captured("versitygw-test-event.json"));
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().kind, EventKind::test);
  EXPECT_EQ(events->front().event_name, "s3:TestEvent");
  EXPECT_EQ(events->front().bucket, "Test-Bucket");
  EXPECT_EQ(events->front().key, "");
}

TEST(ParseEventMessage, AnObjectWithoutRecordsThatIsNoTestEventIsMalformed) {
  auto events = parse_event_message(R"({"Service":"S3","Event":"s3:Something"})");
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.error().reason, Reason::malformed_event);
}

TEST(KeyEncodingNames, SpellEverySettingValue) {
  EXPECT_EQ(key_encoding_from_name("query"), KeyEncoding::query);
  EXPECT_EQ(key_encoding_from_name("raw"), KeyEncoding::raw);
  EXPECT_EQ(key_encoding_from_name("detect"), KeyEncoding::detect);
  EXPECT_EQ(key_encoding_names().size(), 3u);
}

}  // namespace
}  // namespace imgpipe::events
