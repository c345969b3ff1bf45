#include "pipeline/job.h"

#include <gtest/gtest.h>

#include "observe/metrics.h"
#include "pipeline/fakes.h"
#include "support/test_images.h"

namespace imgpipe::pipeline {
namespace {

using fakes::FakeStore;
using fakes::RecordingSleeper;

std::string created_event(const std::string& bucket, const std::string& escaped_key,
                          const std::string& event_name = "s3:ObjectCreated:Put") {
  return R"({"EventName":")" + event_name + R"(","Key":"x","Records":[{"eventName":")" +
         event_name + R"(","s3":{"bucket":{"name":")" + bucket + R"("},"object":{"key":")" +
         escaped_key + R"(","size":1}}}]})";
}

kafka::Message message(std::string payload, std::int64_t offset = 0) {
  return kafka::Message{{"bucket-events", 0}, offset, "", std::move(payload), -1, {}};
}

double failed_count(const char* reason) {
  return observe::Metrics::global().objects_failed.with(reason).value();
}

class JobTest : public ::testing::Test {
 protected:
  JobTest() {
    config_.pipeline.retry_initial_ms = 200;
    config_.pipeline.retry_max_ms = 500;
  }
  JobStatus handle(const std::string& payload, std::stop_token stop = {}) {
    Job job(config_, JobDeps{store_, sleeper_, dead_letters_, health_, [this] { return jitter_; }});
    return job.handle(message(payload), stop);
  }
  Config config_;
  FakeStore store_;
  RecordingSleeper sleeper_;
  fakes::RecordingDeadLetters dead_letters_;
  fakes::SwitchableHealth health_;
  double jitter_ = 1.0;  // the top of each back-off's range: the nominal delay
};

TEST_F(JobTest, WritesTheResizedImageUnderTheSameKeyInTheTargetBucket) {
  store_.add("raw", "trips/beach day.jpg", testing_support::make_image(3000, 2000, ".jpg"));
  EXPECT_EQ(handle(created_event("raw", "trips%2Fbeach+day.jpg")), JobStatus::done);
  auto output = store_.find("processed", "trips/beach day.jpg");
  ASSERT_TRUE(output.has_value());
  const auto decoded = testing_support::decode(output->body);
  EXPECT_EQ(decoded.width, 1024);
  EXPECT_EQ(decoded.height, 683);
  EXPECT_EQ(output->info.content_type, "image/jpeg");
  EXPECT_EQ(output->info.metadata.at(kSourceEtagMetadata), "etag-trips/beach day.jpg");
}

TEST_F(JobTest, SkipsRemoveEventsWithoutTouchingTheStore) {
  EXPECT_EQ(handle(created_event("raw", "a.jpg", "s3:ObjectRemoved:Delete")), JobStatus::done);
  EXPECT_EQ(store_.calls("get"), 0);
}

TEST_F(JobTest, SkipsEventsOfOtherBuckets) {
  store_.add("elsewhere", "a.jpg", testing_support::make_image(10, 10, ".jpg"));
  EXPECT_EQ(handle(created_event("elsewhere", "a.jpg")), JobStatus::done);
  EXPECT_EQ(store_.calls("get"), 0);
  EXPECT_EQ(store_.count("processed"), 0u);
}

TEST_F(JobTest, NeverProcessesAnObjectImgpipeWroteItself) {
  store_.add("raw", "loop.jpg", testing_support::make_image(100, 100, ".jpg"),
             {{kSourceEtagMetadata, "abc"}});
  EXPECT_EQ(handle(created_event("raw", "loop.jpg")), JobStatus::done);
  EXPECT_EQ(store_.count("processed"), 0u);
}

TEST_F(JobTest, CountsAMalformedMessageAndMovesOn) {
  const double before = failed_count("malformed_event");
  EXPECT_EQ(handle("this is not json"), JobStatus::done);
  EXPECT_EQ(failed_count("malformed_event"), before + 1);
}

TEST_F(JobTest, CountsAnEventForAnObjectThatNoLongerExists) {
  const double before = failed_count("object_missing");
  EXPECT_EQ(handle(created_event("raw", "deleted-meanwhile.jpg")), JobStatus::done);
  EXPECT_EQ(failed_count("object_missing"), before + 1);
  EXPECT_TRUE(sleeper_.sleeps.empty()) << "a missing object is not retried";
}

TEST_F(JobTest, CountsAFileThatIsNotAnImage) {
  store_.add("raw", "notes.jpg", "plain text");
  const double before = failed_count("not_an_image");
  EXPECT_EQ(handle(created_event("raw", "notes.jpg")), JobStatus::done);
  EXPECT_EQ(failed_count("not_an_image"), before + 1);
  EXPECT_EQ(store_.count("processed"), 0u);
}

TEST_F(JobTest, CountsAnEmptyFile) {
  store_.add("raw", "empty.jpg", "");
  const double before = failed_count("empty_object");
  EXPECT_EQ(handle(created_event("raw", "empty.jpg")), JobStatus::done);
  EXPECT_EQ(failed_count("empty_object"), before + 1);
}

TEST_F(JobTest, RetriesTransientFailuresWithDoublingBackoffUpToTheCap) {
  store_.add("raw", "a.png", testing_support::make_image(50, 50, ".png"));
  store_.fail_next("get", 2, make_error(Reason::unavailable, "connection refused"));
  store_.fail_next("put", 2, make_error(Reason::timeout, "timed out"));
  EXPECT_EQ(handle(created_event("raw", "a.png")), JobStatus::done);
  EXPECT_TRUE(store_.find("processed", "a.png").has_value());
  using std::chrono::milliseconds;
  EXPECT_EQ(sleeper_.sleeps, (std::vector<milliseconds>{milliseconds(200), milliseconds(400),
                                                        milliseconds(200), milliseconds(400)}));
}

TEST_F(JobTest, EachBackoffSleepsBetweenHalfAndAllOfItsDelay) {
  store_.add("raw", "a.png", testing_support::make_image(50, 50, ".png"));
  store_.fail_next("get", 3, make_error(Reason::unavailable, "connection refused"));
  jitter_ = 0.0;
  EXPECT_EQ(handle(created_event("raw", "a.png")), JobStatus::done);
  jitter_ = 0.5;
  store_.fail_next("get", 1, make_error(Reason::unavailable, "connection refused"));
  EXPECT_EQ(handle(created_event("raw", "a.png")), JobStatus::done);
  using std::chrono::milliseconds;
  EXPECT_EQ(sleeper_.sleeps, (std::vector<milliseconds>{milliseconds(100), milliseconds(200),
                                                        milliseconds(250), milliseconds(150)}));
}

TEST_F(JobTest, ARequestAbortedByShutdownIsNeitherRetriedNorCounted) {
  store_.add("raw", "a.png", testing_support::make_image(50, 50, ".png"));
  store_.fail_next("get", 1, make_error(Reason::cancelled, "shutdown aborted GET"));
  EXPECT_EQ(handle(created_event("raw", "a.png")), JobStatus::cancelled);
  EXPECT_TRUE(sleeper_.sleeps.empty());
  EXPECT_EQ(store_.count("processed"), 0u);
}

TEST_F(JobTest, CapsTheBackoff) {
  store_.add("raw", "a.png", testing_support::make_image(50, 50, ".png"));
  store_.fail_next("get", 4, make_error(Reason::unavailable, "connection refused"));
  EXPECT_EQ(handle(created_event("raw", "a.png")), JobStatus::done);
  EXPECT_EQ(sleeper_.sleeps.back(), std::chrono::milliseconds(500));
}

TEST_F(JobTest, DoesNotRetryPermanentS3Errors) {
  store_.add("raw", "a.png", testing_support::make_image(50, 50, ".png"));
  store_.fail_next("put", 1, make_error(Reason::access_denied, "S3 AccessDenied"));
  const double before = failed_count("access_denied");
  EXPECT_EQ(handle(created_event("raw", "a.png")), JobStatus::done);
  EXPECT_EQ(failed_count("access_denied"), before + 1);
  EXPECT_TRUE(sleeper_.sleeps.empty());
}

TEST_F(JobTest, GivesUpWithoutCommittingWhenShutdownInterruptsRetries) {
  store_.add("raw", "a.png", testing_support::make_image(50, 50, ".png"));
  store_.fail_next("get", 100, make_error(Reason::unavailable, "connection refused"));
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(handle(created_event("raw", "a.png"), stop.get_token()), JobStatus::cancelled);
  EXPECT_EQ(store_.count("processed"), 0u);
}

}  // namespace
}  // namespace imgpipe::pipeline

namespace imgpipe::pipeline {
namespace {

TEST_F(JobTest, RefusesAnObjectLargerThanTheLimitWithoutDownloadingIt) {
  config_.pipeline.max_input_bytes = 1000;
  const std::string event =
      R"({"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"raw"},"object":{"key":"huge.jpg","size":5000000}}}]})";
  const double before = failed_count("too_many_bytes");
  EXPECT_EQ(handle(event), JobStatus::done);
  EXPECT_EQ(failed_count("too_many_bytes"), before + 1);
  EXPECT_EQ(store_.calls("get"), 0);
}

// Regression test for stale outputs: the GET asked for whatever was current.
// It is pinned to the event's ETag; an object overwritten since is skipped
// (its newer event renders it) and nothing is written for the old event.
TEST_F(JobTest, SkipsAnEventWhoseObjectWasOverwrittenSince) {
  store_.add("raw", "a.jpg", testing_support::make_image(64, 48, ".jpg"));  // ETag etag-a.jpg
  const std::string old_event =
      R"({"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"raw"},"object":{"key":"a.jpg","size":10,"eTag":"etag-of-v1"}}}]})";
  const double before = observe::Metrics::global().objects_skipped.with("superseded").value();
  EXPECT_EQ(handle(old_event), JobStatus::done);
  EXPECT_EQ(observe::Metrics::global().objects_skipped.with("superseded").value(), before + 1);
  EXPECT_EQ(store_.calls("put"), 0);

  const std::string current_event =
      R"({"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"raw"},"object":{"key":"a.jpg","size":10,"eTag":"etag-a.jpg"}}}]})";
  EXPECT_EQ(handle(current_event), JobStatus::done);
  EXPECT_TRUE(store_.find("processed", "a.jpg").has_value());
}

// Regression test for a crash loop: the event said 1 byte, the object was
// overwritten with a huge one before processing, and the uncapped GET ran
// the worker out of memory again on every redelivery.
TEST_F(JobTest, CapsTheDownloadAtTheLimitWhenTheObjectGrewSinceItsEvent) {
  config_.pipeline.max_input_bytes = 1000;
  store_.add("raw", "grown.jpg", std::string(5000, 'x'));
  const double before = failed_count("too_many_bytes");
  EXPECT_EQ(handle(created_event("raw", "grown.jpg")), JobStatus::done);
  EXPECT_EQ(failed_count("too_many_bytes"), before + 1);
  EXPECT_EQ(store_.calls("put"), 0);
}

}  // namespace
}  // namespace imgpipe::pipeline

namespace imgpipe::pipeline {
namespace {

TEST_F(JobTest, WritesEveryOutputOfEveryMatchingRuleWithSidecars) {
  auto config = load_config_text(
      R"(
rules:
  - name: web
    match: {bucket: raw}
    outputs:
      - {name: small, bucket: out, key: "s/{key}.{format}", resize: {width: 100}, format: webp, sidecar: true}
      - {name: big, bucket: out, key: "b/{key}", resize: {width: 400}}
  - name: pngs
    match: {bucket: raw, suffix: .png}
    outputs:
      - {name: square, bucket: train, key: "{key}", operations: [{square: 64}], format: png}
)",
      [](const std::string&) -> std::optional<std::string> { return std::nullopt; }, Use::local);
  ASSERT_TRUE(config.ok()) << config.error().message;
  config_ = config.value();
  store_.add("raw", "cat.png", testing_support::make_image(800, 600, ".png"));
  EXPECT_EQ(handle(created_event("raw", "cat.png")), JobStatus::done);
  ASSERT_TRUE(store_.find("out", "s/cat.png.webp").has_value());
  ASSERT_TRUE(store_.find("out", "s/cat.png.webp.json").has_value());
  EXPECT_EQ(store_.find("out", "s/cat.png.webp.json")->info.content_type, "application/json");
  EXPECT_TRUE(has_source_marker(store_.find("out", "s/cat.png.webp.json")->info.metadata))
      << "a sidecar must never be processed either";
  ASSERT_TRUE(store_.find("out", "b/cat.png").has_value());
  EXPECT_EQ(testing_support::decode(store_.find("out", "b/cat.png")->body).width, 400);
  ASSERT_TRUE(store_.find("train", "cat.png").has_value());
  EXPECT_EQ(testing_support::decode(store_.find("train", "cat.png")->body).width, 64);
  EXPECT_EQ(store_.count("out"), 3u);
}

TEST_F(JobTest, SkipsAnObjectNoRuleTakes) {
  config_.pipeline.source_bucket = "raw";
  store_.add("raw", "x.jpg", testing_support::make_image(10, 10, ".jpg"));
  const double before = observe::Metrics::global().objects_skipped.with("no_matching_rule").value();
  EXPECT_EQ(handle(created_event("elsewhere", "x.jpg")), JobStatus::done);
  EXPECT_EQ(observe::Metrics::global().objects_skipped.with("no_matching_rule").value(),
            before + 1);
}

}  // namespace
}  // namespace imgpipe::pipeline
