// The Job's delivery decisions: dead-lettering, bounded retries against
// outages, conditional output writes and deletes.
#include <gtest/gtest.h>

#include "observe/metrics.h"
#include "pipeline/fakes.h"
#include "pipeline/job.h"
#include "support/test_images.h"

namespace imgpipe::pipeline {
namespace {

using fakes::FakeStore;

struct Event {
  std::string name = "s3:ObjectCreated:Put";
  std::string key = "a.jpg";
  std::string etag;  // empty: the FakeStore's etag-<key>
  std::string sequencer = "0000000000000010";
};

std::string event_json(const Event& event) {
  const std::string etag = event.etag.empty() ? "etag-" + event.key : event.etag;
  return R"({"EventName":")" + event.name + R"(","Key":"raw/)" + event.key +
         R"(","Records":[{"eventName":")" + event.name +
         R"(","s3":{"bucket":{"name":"raw"},"object":{"key":")" + event.key +
         R"(","size":10,"eTag":")" + etag + R"(","sequencer":")" + event.sequencer + R"("}}}]})";
}

Event named(const std::string& name) {
  Event event;
  event.name = name;
  return event;
}

double skipped(const char* why) {
  return observe::Metrics::global().objects_skipped.with(why).value();
}

class JobDeliveryTest : public ::testing::Test {
 protected:
  JobDeliveryTest() {
    config_.pipeline.retry_initial_ms = 100;
    config_.pipeline.retry_max_ms = 100;
    config_.pipeline.max_attempts = 3;
  }
  JobStatus handle(const std::string& payload, std::stop_token stop = {}) {
    Job job(config_, JobDeps{store_, sleeper_, dead_letters_, health_, [] { return 1.0; }});
    return job.handle(kafka::Message{{"bucket-events", 4}, 77, "raw/a.jpg", payload, 1234, {}},
                      stop);
  }
  JobStatus handle(const Event& event) { return handle(event_json(event)); }
  // An output of raw/<key> from the version with `etag` and `sequencer`.
  void add_output(const std::string& key, const std::string& etag, const std::string& sequencer,
                  const std::string& source_key = "raw/a.jpg") {
    store_.add("processed", key, testing_support::make_image(8, 8, ".jpg"),
               {{kSourceEtagMetadata, etag},
                {kSourceKeyMetadata, source_key},
                {kSourceSequencerMetadata, sequencer}});
  }
  std::string output_etag(const std::string& key) {
    return store_.find("processed", key)->info.metadata.at(kSourceEtagMetadata);
  }

  Config config_;
  FakeStore store_;
  fakes::RecordingSleeper sleeper_;
  fakes::RecordingDeadLetters dead_letters_;
  fakes::SwitchableHealth health_;
};

TEST_F(JobDeliveryTest, DeadLettersAnUndecodableObjectWithWhereItCameFromAndWhy) {
  store_.add("raw", "a.jpg", "plain text");
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  const auto sent = dead_letters_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].original.partition.partition, 4);
  EXPECT_EQ(sent[0].original.offset, 77);
  EXPECT_EQ(sent[0].original.key, "raw/a.jpg");
  EXPECT_EQ(sent[0].original.payload, event_json(Event{}));
  EXPECT_EQ(sent[0].letter.error.reason, Reason::not_an_image);
  EXPECT_EQ(sent[0].letter.attempts, 1);
}

// versitygw's messages have no key; the record gets the object's, so that
// `imgpipe dlq list --key-prefix` finds it.
TEST_F(JobDeliveryTest, ADeadLetterOfAMessageWithoutKeyIsKeyedByTheObject) {
  store_.add("raw", "a.jpg", "plain text");
  Job job(config_, JobDeps{store_, sleeper_, dead_letters_, health_, [] { return 1.0; }});
  const kafka::Message message{{"bucket-events", 4}, 77, "", event_json(Event{}), 1234, {}};
  EXPECT_EQ(job.handle(message, {}), JobStatus::done);
  ASSERT_EQ(dead_letters_.sent().size(), 1u);
  EXPECT_EQ(dead_letters_.sent()[0].original.key, "raw/a.jpg");
  EXPECT_EQ(dead_letters_.sent()[0].original.payload, event_json(Event{}));
}

TEST_F(JobDeliveryTest, DeadLettersAMalformedMessage) {
  EXPECT_EQ(handle("not json at all"), JobStatus::done);
  ASSERT_EQ(dead_letters_.sent().size(), 1u);
  EXPECT_EQ(dead_letters_.sent()[0].letter.error.reason, Reason::malformed_event);
}

TEST_F(JobDeliveryTest, DeadLettersAnEventForAnObjectDeletedBeforeProcessing) {
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  ASSERT_EQ(dead_letters_.sent().size(), 1u);
  EXPECT_EQ(dead_letters_.sent()[0].letter.error.reason, Reason::object_missing);
}

TEST_F(JobDeliveryTest, KeepsTryingTheDeadLetterTopicAndOnlyThenLetsTheOffsetMove) {
  store_.add("raw", "a.jpg", "plain text");
  dead_letters_.fail_next(2);
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(dead_letters_.sent().size(), 1u);
  EXPECT_EQ(sleeper_.sleeps.size(), 2u);
}

TEST_F(JobDeliveryTest, ADeadLetterThatCannotBeStoredBeforeShutdownLeavesTheOffset) {
  store_.add("raw", "a.jpg", "plain text");
  dead_letters_.fail_next(1000);
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(handle(event_json(Event{}), stop.get_token()), JobStatus::cancelled);
}

TEST_F(JobDeliveryTest, SuccessIsNotDeadLettered) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_TRUE(dead_letters_.sent().empty());
  EXPECT_TRUE(store_.find("processed", "a.jpg").has_value());
}

// A timeout on this one object while the store answers everything else:
// bounded, then dead-lettered with the reason and the attempt count.
TEST_F(JobDeliveryTest, GivesUpOnAnObjectThatKeepsFailingWhileTheStoreIsUp) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  store_.fail_next("get", 10, make_error(Reason::timeout, "operation timed out"));
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(store_.calls("get"), 3);
  const auto sent = dead_letters_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].letter.error.reason, Reason::timeout);
  EXPECT_EQ(sent[0].letter.attempts, 3);
  EXPECT_NE(sent[0].letter.error.message.find("gave up after 3"), std::string::npos)
      << sent[0].letter.error.message;
}

// The whole store down: waiting costs no attempts, nothing is dead-lettered.
TEST_F(JobDeliveryTest, AnOutageOfTheWholeStoreOnlyWaits) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  store_.fail_next("get", 10, make_error(Reason::unavailable, "connection refused"));
  health_.up = false;
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(store_.calls("get"), 11);
  EXPECT_TRUE(dead_letters_.sent().empty());
  EXPECT_TRUE(store_.find("processed", "a.jpg").has_value());
}

// Regression test for the zombie: a stalled worker finishing an old job
// after the new owner rendered a newer version must not overwrite it.
TEST_F(JobDeliveryTest, NeverOverwritesAnOutputOfANewerSourceVersion) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  add_output("a.jpg", "etag-of-v2", "0000000000000020");
  const double before = skipped("newer_output_exists");
  EXPECT_EQ(handle(Event{}), JobStatus::done);  // sequencer ...10, older
  EXPECT_EQ(output_etag("a.jpg"), "etag-of-v2");
  EXPECT_EQ(skipped("newer_output_exists"), before + 1);
  EXPECT_TRUE(dead_letters_.sent().empty());
}

// Without sequencers (versitygw's events) an output of another version may
// be the newer one: it is overwritten only while the rendered version is
// still the source's.
TEST_F(JobDeliveryTest, WithoutSequencersAnOutputIsKeptOnceTheSourceHasMovedOn) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  add_output("a.jpg", "etag-of-another-version", "");
  store_.new_version_after_next_get("raw", "a.jpg");
  const double before = skipped("source_changed");
  Event event;
  event.sequencer = "";
  EXPECT_EQ(handle(event), JobStatus::done);
  EXPECT_EQ(output_etag("a.jpg"), "etag-of-another-version");
  EXPECT_EQ(skipped("source_changed"), before + 1);
  EXPECT_TRUE(dead_letters_.sent().empty());
}

TEST_F(JobDeliveryTest, WithoutSequencersAnOutputOfAnotherVersionIsReplacedWhileOursIsCurrent) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  add_output("a.jpg", "etag-of-another-version", "");
  Event event;
  event.sequencer = "";
  EXPECT_EQ(handle(event), JobStatus::done);
  EXPECT_EQ(output_etag("a.jpg"), "etag-a.jpg");
}

// A stack whose server writes raw keys (versitygw) still gets backfill's
// synthetic events, which are query-escaped.
TEST_F(JobDeliveryTest, BackfillEventsAreQueryEscapedWhateverKeysTheServerWrites) {
  config_.s3.event_keys = "raw";
  store_.add("raw", "a b.jpg", testing_support::make_image(40, 30, ".jpg"));
  Event event;
  event.key = "a+b.jpg";
  event.etag = "etag-a b.jpg";
  Job job(config_, JobDeps{store_, sleeper_, dead_letters_, health_, [] { return 1.0; }});
  const kafka::Message message{{"bucket-events", 4}, 77,   "raw/a b.jpg",
                               event_json(event),    1234, {{kBackfillHeader, "missing"}}};
  EXPECT_EQ(job.handle(message, {}), JobStatus::done);
  EXPECT_TRUE(store_.find("processed", "a b.jpg").has_value());
  EXPECT_TRUE(dead_letters_.sent().empty());
}

TEST_F(JobDeliveryTest, RawKeysAreTakenAsTheyAreWhenTheSettingSaysSo) {
  config_.s3.event_keys = "raw";
  store_.add("raw", "a+b.jpg", testing_support::make_image(40, 30, ".jpg"));
  Event event;
  event.key = "a+b.jpg";
  EXPECT_EQ(handle(event), JobStatus::done);
  EXPECT_TRUE(store_.find("processed", "a+b.jpg").has_value());
}

TEST_F(JobDeliveryTest, OverwritesAnOutputOfAnOlderVersionOnlyIfItIsStillThatOne) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  add_output("a.jpg", "etag-of-v0", "0000000000000005");
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(output_etag("a.jpg"), "etag-a.jpg");
  const auto metadata = store_.find("processed", "a.jpg")->info.metadata;
  EXPECT_EQ(metadata.at(kSourceKeyMetadata), "raw/a.jpg");
  EXPECT_EQ(metadata.at(kSourceSequencerMetadata), "0000000000000010");
}

// Another writer between the HEAD and the PUT: the PUT fails, the decision
// is made again from what is there now.
TEST_F(JobDeliveryTest, AConflictingWriteBetweenReadAndWriteIsDecidedAgain) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  store_.fail_next("put", 1, make_error(Reason::write_conflict, "precondition failed"));
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(store_.calls("head"), 1 + 1)
      << "the pre-check, whose answer the first round uses, then a HEAD for the second round";
  EXPECT_EQ(store_.calls("put"), 2);
  EXPECT_EQ(output_etag("a.jpg"), "etag-a.jpg");
}

// The pre-check's HEAD found no output: the PUT that follows needs none of
// its own (one request less per output), and is conditional on that answer.
TEST_F(JobDeliveryTest, AFirstWriteAsksAboutItsOutputOnce) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(store_.calls("head"), 1);
  EXPECT_EQ(store_.calls("put"), 1);
  EXPECT_EQ(output_etag("a.jpg"), "etag-a.jpg");
}

TEST_F(JobDeliveryTest, AnOutputWrittenAfterThePreCheckIsDecidedOnAgain) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  // While this job renders, a job for a newer version of the source writes.
  store_.add_after_next_get("processed", "a.jpg", testing_support::make_image(8, 8, ".jpg"),
                            {{kSourceEtagMetadata, "etag-of-v2"},
                             {kSourceKeyMetadata, "raw/a.jpg"},
                             {kSourceSequencerMetadata, "0000000000000020"}});
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(store_.calls("put"), 1) << "the conditional PUT on the pre-check's answer fails";
  EXPECT_EQ(store_.calls("head"), 2) << "then a HEAD finds the newer output";
  EXPECT_EQ(output_etag("a.jpg"), "etag-of-v2");
  EXPECT_TRUE(dead_letters_.sent().empty());
}

TEST_F(JobDeliveryTest, AnOutputOfAnotherSourceKeyIsACollision) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  add_output("a.jpg", "etag-b", "0000000000000001", "raw/A.JPG");
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(output_etag("a.jpg"), "etag-b");
  ASSERT_EQ(dead_letters_.sent().size(), 1u);
  EXPECT_EQ(dead_letters_.sent()[0].letter.error.reason, Reason::output_key_collision);
  EXPECT_NE(dead_letters_.sent()[0].letter.error.message.find("raw/A.JPG"), std::string::npos);
}

TEST_F(JobDeliveryTest, AnObjectImgpipeDidNotWriteIsNeverOverwritten) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  store_.add("processed", "a.jpg", "someone's own file");
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(store_.find("processed", "a.jpg")->body, "someone's own file");
  ASSERT_EQ(dead_letters_.sent().size(), 1u);
  EXPECT_EQ(dead_letters_.sent()[0].letter.error.reason, Reason::output_key_collision);
}

// Redelivery after a crash, or a tagging event: the outputs already record
// this version, so nothing is downloaded, rendered or written.
TEST_F(JobDeliveryTest, ATaggingEventOfAnUpToDateObjectDoesNoWork) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  ASSERT_EQ(handle(Event{}), JobStatus::done);
  const int puts = store_.calls("put");
  const double before = skipped("up_to_date");
  EXPECT_EQ(handle(named("s3:ObjectCreated:PutTagging")), JobStatus::done);
  EXPECT_EQ(store_.calls("get"), 1);
  EXPECT_EQ(store_.calls("put"), puts);
  EXPECT_EQ(skipped("up_to_date"), before + 1);
}

TEST_F(JobDeliveryTest, AMissingSidecarIsWrittenEvenWhenTheImageIsUpToDate) {
  auto config = load_config_text(
      R"(
rules:
  - match: {bucket: raw}
    outputs:
      - {name: web, bucket: processed, key: "{key}", resize: {width: 20}, sidecar: true}
)",
      [](const std::string&) -> std::optional<std::string> { return std::nullopt; }, Use::local);
  ASSERT_TRUE(config.ok()) << config.error().message;
  config_ = config.value();
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));
  ASSERT_EQ(handle(Event{}), JobStatus::done);
  store_.remove("processed", "a.jpg.json");  // the crash came between the two PUTs
  const int puts = store_.calls("put");
  EXPECT_EQ(handle(Event{}), JobStatus::done);
  EXPECT_EQ(store_.calls("put"), puts + 1);
  ASSERT_TRUE(store_.find("processed", "a.jpg.json").has_value());
  EXPECT_EQ(store_.find("processed", "a.jpg.json")->info.metadata.at(kSourceEtagMetadata),
            "etag-a.jpg");
}

TEST_F(JobDeliveryTest, ADeleteRemovesTheOutputsDerivedFromTheDeletedObject) {
  add_output("a.jpg", "etag-a.jpg", "0000000000000010");
  add_output("other.jpg", "etag-x", "0000000000000010", "raw/other.jpg");
  const double before = observe::Metrics::global().outputs_deleted.unlabelled().value();
  EXPECT_EQ(handle(named("s3:ObjectRemoved:Delete")), JobStatus::done);
  EXPECT_FALSE(store_.find("processed", "a.jpg").has_value());
  EXPECT_TRUE(store_.find("processed", "other.jpg").has_value());
  EXPECT_EQ(observe::Metrics::global().outputs_deleted.unlabelled().value(), before + 1);
}

TEST_F(JobDeliveryTest, ADeleteFollowedByAReuploadKeepsTheNewOutputs) {
  store_.add("raw", "a.jpg", testing_support::make_image(40, 30, ".jpg"));  // uploaded again
  add_output("a.jpg", "etag-a.jpg", "0000000000000030");
  EXPECT_EQ(handle(named("s3:ObjectRemoved:Delete")), JobStatus::done);
  EXPECT_TRUE(store_.find("processed", "a.jpg").has_value());
  EXPECT_EQ(store_.calls("delete"), 0);
}

TEST_F(JobDeliveryTest, ADeleteNeverRemovesAnOutputOfAnotherSource) {
  add_output("a.jpg", "etag-b", "0000000000000001", "raw/elsewhere.jpg");
  store_.add("processed", "b.jpg", "not ours");
  EXPECT_EQ(handle(named("s3:ObjectRemoved:Delete")), JobStatus::done);
  EXPECT_TRUE(store_.find("processed", "a.jpg").has_value());
  EXPECT_EQ(store_.calls("delete"), 0);
}

TEST_F(JobDeliveryTest, DeletesCanBeSwitchedOff) {
  config_.pipeline.delete_outputs = false;
  add_output("a.jpg", "etag-a.jpg", "0000000000000010");
  EXPECT_EQ(handle(named("s3:ObjectRemoved:Delete")), JobStatus::done);
  EXPECT_TRUE(store_.find("processed", "a.jpg").has_value());
  EXPECT_EQ(store_.calls("head"), 0);
}

}  // namespace
}  // namespace imgpipe::pipeline
