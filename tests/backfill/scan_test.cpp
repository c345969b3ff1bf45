#include "backfill/scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "backfill/enqueue.h"
#include "pipeline/fakes.h"
#include "pipeline/recipe_fingerprint.h"
#include "pipeline/write_decision.h"
#include "support/test_images.h"

namespace imgpipe::backfill {
namespace {

using pipeline::fakes::FakeStore;

// Lists a fixed set of objects per bucket, `max_keys` at a time; the token is
// the index of the next object.
class FakeLister final : public Lister {
 public:
  void add(const std::string& bucket, const s3::ListEntry& entry) {
    std::lock_guard lock(mutex_);
    objects_[bucket].push_back(entry);
  }
  Result<s3::ListPage> list(const Source& source, const std::string& token, int max_keys) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    std::vector<s3::ListEntry> under;
    for (const auto& entry : objects_[source.bucket]) {
      if (entry.key.starts_with(source.prefix)) under.push_back(entry);
    }
    const std::size_t first = token.empty() ? 0 : std::stoul(token);
    s3::ListPage page;
    for (std::size_t i = first; i < under.size() && page.objects.size() < std::size_t(max_keys);
         ++i) {
      page.objects.push_back(under[i]);
    }
    const std::size_t next = first + page.objects.size();
    page.is_truncated = next < under.size();
    if (page.is_truncated) page.next_continuation_token = std::to_string(next);
    return page;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<s3::ListEntry>> objects_;
  int calls_ = 0;
};

class RecordingEnqueuer final : public Enqueuer {
 public:
  Status enqueue(const std::string& bucket, const s3::ListEntry& object, ObjectClass why,
                 std::stop_token /*stop*/) override {
    std::lock_guard lock(mutex_);
    if (fail_after_ >= 0 && static_cast<int>(keys_.size()) >= fail_after_) {
      return make_error(Reason::kafka_error, "broker down");
    }
    keys_.push_back(bucket + "/" + object.key);
    classes_[bucket + "/" + object.key] = why;
    if (stop_after_ >= 0 && static_cast<int>(keys_.size()) >= stop_after_) stop_.request_stop();
    return ok_status();
  }
  std::vector<std::string> keys() {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  std::map<std::string, ObjectClass> classes() {
    std::lock_guard lock(mutex_);
    return classes_;
  }
  int fail_after_ = -1;
  int stop_after_ = -1;
  std::stop_source stop_;

 private:
  std::mutex mutex_;
  std::vector<std::string> keys_;
  std::map<std::string, ObjectClass> classes_;
};

class RecordingCheckpoints final : public CheckpointSink {
 public:
  Status save(const Checkpoint& checkpoint) override {
    saved.push_back(checkpoint);
    return ok_status();
  }
  std::vector<Checkpoint> saved;
};

class ScanTest : public ::testing::Test {
 protected:
  ScanTest() {
    options_.rules = config_.effective_rules();
    options_.retry_initial_ms = 1;
  }

  // A source object as the FakeStore and the listing both know it.
  void source(const std::string& key, std::int64_t modified_ms = 1'700'000'000'000) {
    store_.add("raw", key, "bytes");
    lister_.add("raw", s3::ListEntry{key, 5, "etag-" + key, modified_ms});
  }
  // An output of `key` recording source ETag `etag` and recipe `recipe`.
  void output(const std::string& key, const std::string& etag, const std::string& recipe) {
    std::map<std::string, std::string> metadata = pipeline::source_metadata({"raw", key, etag, ""});
    metadata[pipeline::kRecipeMetadata] = recipe;
    store_.add("processed", key, "out", metadata);
  }
  std::string current_recipe() const {
    return pipeline::recipe_fingerprint(options_.rules.front().outputs.front());
  }
  Result<ScanResult> run(const std::optional<Checkpoint>& resume = std::nullopt,
                         std::stop_token stop = {}) {
    Scan scan(options_, ScanDeps{lister_, store_, enqueuer_, &checkpoints_});
    return scan.run(resume, stop);
  }

  pipeline::Config config_;  // the default rule: raw -> processed, same key, fit 1024
  ScanOptions options_;
  FakeStore store_;
  FakeLister lister_;
  RecordingEnqueuer enqueuer_;
  RecordingCheckpoints checkpoints_;
};

TEST_F(ScanTest, ClassifiesEachObjectByItsWorstOutputAndEnqueuesWhatNeedsWork) {
  source("missing.jpg");
  source("current.jpg");
  output("current.jpg", "etag-current.jpg", current_recipe());
  source("stale.jpg");
  output("stale.jpg", "etag-of-an-older-version", current_recipe());
  source("outdated.jpg");
  output("outdated.jpg", "etag-outdated.jpg", "0000000000000000");
  source("taken.jpg");
  store_.add("processed", "taken.jpg", "someone else's");

  auto result = run();
  ASSERT_TRUE(result) << result.error().message;
  const auto& counts = result->counts;
  EXPECT_TRUE(result->complete);
  EXPECT_EQ(counts.listed, 5u);
  EXPECT_EQ(counts.matched, 5u);
  EXPECT_EQ(counts.of(ObjectClass::missing), 1u);
  EXPECT_EQ(counts.of(ObjectClass::stale), 1u);
  EXPECT_EQ(counts.of(ObjectClass::collision), 1u);
  // Without --changed another recipe is not looked for.
  EXPECT_EQ(counts.of(ObjectClass::up_to_date), 2u);
  EXPECT_EQ(counts.of(ObjectClass::outdated), 0u);
  auto enqueued = enqueuer_.keys();
  std::sort(enqueued.begin(), enqueued.end());
  EXPECT_EQ(enqueued, (std::vector<std::string>{"raw/missing.jpg", "raw/stale.jpg"}));
  EXPECT_EQ(enqueuer_.classes().at("raw/stale.jpg"), ObjectClass::stale);
  EXPECT_EQ(counts.enqueued, 2u);
  EXPECT_EQ(counts.head_requests, 5u);
  EXPECT_EQ(store_.calls("get"), 0);  // never an image body
}

TEST_F(ScanTest, WithChangedAnOutputOfAnotherRecipeIsOutdated) {
  source("outdated.jpg");
  output("outdated.jpg", "etag-outdated.jpg", "0000000000000000");
  source("no-recipe.jpg");
  store_.add("processed", "no-recipe.jpg", "out",
             pipeline::source_metadata({"raw", "no-recipe.jpg", "etag-no-recipe.jpg", ""}));
  options_.changed = true;
  auto result = run();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->counts.of(ObjectClass::outdated), 2u);
  EXPECT_EQ(enqueuer_.keys().size(), 2u);
}

TEST_F(ScanTest, ADryRunEnqueuesAndSavesNothingButKeepsTheFirstKeysOfEachClass) {
  for (int i = 0; i < 15; ++i) source("m" + std::to_string(100 + i) + ".jpg");
  options_.dry_run = true;
  options_.samples = 4;
  auto result = run();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->counts.of(ObjectClass::missing), 15u);
  EXPECT_EQ(result->counts.enqueued, 0u);
  EXPECT_TRUE(enqueuer_.keys().empty());
  EXPECT_TRUE(checkpoints_.saved.empty());
  EXPECT_EQ(result->samples.at(ObjectClass::missing).size(), 4u);
}

TEST_F(ScanTest, ForceEnqueuesEverythingMatchedWithoutAnyHead) {
  source("a.jpg");
  source("b.jpg");
  output("b.jpg", "etag-b.jpg", current_recipe());
  options_.force = true;
  auto result = run();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->counts.of(ObjectClass::forced), 2u);
  EXPECT_EQ(enqueuer_.keys().size(), 2u);
  EXPECT_EQ(store_.calls("head"), 0);
}

TEST_F(ScanTest, SinceLeavesOlderObjectsOutAndObjectsNoRuleTakesAreOnlyListed) {
  source("old.jpg", 1'000);
  source("new.jpg", 5'000);
  lister_.add("raw", s3::ListEntry{"notes.txt", 5, "etag-notes.txt", 5'000});
  options_.rules.front().match.suffix = ".jpg";
  options_.since_ms = 2'000;
  auto result = run();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->counts.listed, 3u);
  EXPECT_EQ(result->counts.matched, 1u);
  EXPECT_EQ(enqueuer_.keys(), (std::vector<std::string>{"raw/new.jpg"}));
}

TEST_F(ScanTest, AnObjectThatIsItselfAnOutputInASharedBucketIsNeverEnqueued) {
  auto& out = options_.rules.front().outputs.front();
  out.bucket = "raw";
  out.key_template = "thumbs/{key}";
  source("photo.jpg");
  store_.add("raw", "thumbs/other.jpg", "out", {{pipeline::kSourceEtagMetadata, "x"}});
  lister_.add("raw", s3::ListEntry{"thumbs/other.jpg", 3, "etag-thumbs/other.jpg", 1});
  auto result = run();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->counts.of(ObjectClass::own_output), 1u);
  EXPECT_EQ(enqueuer_.keys(), (std::vector<std::string>{"raw/photo.jpg"}));
}

TEST_F(ScanTest, CheckpointsAfterEveryPageAndResumesWithNoObjectEnqueuedMoreThanTwice) {
  for (int i = 0; i < 7; ++i) source("k" + std::to_string(i) + ".jpg");
  options_.page_size = 2;
  options_.concurrency = 1;
  enqueuer_.stop_after_ = 3;  // stopped in the middle of the second page
  auto first = run(std::nullopt, enqueuer_.stop_.get_token());
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->complete);
  ASSERT_EQ(checkpoints_.saved.size(), 1u);
  const Checkpoint after_page_one = checkpoints_.saved.back();
  EXPECT_EQ(after_page_one.next.continuation_token, "2");
  EXPECT_EQ(after_page_one.counts.enqueued, 2u);

  enqueuer_.stop_after_ = -1;
  auto second = run(after_page_one);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->complete);
  EXPECT_EQ(second->counts.listed, 7u);
  EXPECT_EQ(checkpoints_.saved.back().next.source_index, 1u);  // past the only source
  std::map<std::string, int> times;
  for (const auto& key : enqueuer_.keys()) ++times[key];
  EXPECT_EQ(times.size(), 7u);
  for (const auto& [key, count] : times) EXPECT_LE(count, 2) << key;
}

TEST_F(ScanTest, AnEnqueueFailureStopsTheScanAndLeavesTheLastCheckpointValid) {
  for (int i = 0; i < 5; ++i) source("k" + std::to_string(i) + ".jpg");
  options_.page_size = 2;
  options_.concurrency = 1;
  enqueuer_.fail_after_ = 3;
  auto result = run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, Reason::kafka_error);
  ASSERT_EQ(checkpoints_.saved.size(), 1u);
  EXPECT_EQ(checkpoints_.saved.back().next.continuation_token, "2");
}

TEST_F(ScanTest, AHeadFailureOtherThanMissingFailsTheScan) {
  source("a.jpg");
  store_.fail_next("head", 1, make_error(Reason::access_denied, "S3 AccessDenied"));
  auto result = run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, Reason::access_denied);
}

TEST_F(ScanTest, TransientHeadFailuresAreTriedAgainAFewTimes) {
  source("a.jpg");
  store_.fail_next("head", 3, make_error(Reason::unavailable, "S3 SlowDown"));
  auto result = run();
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->counts.of(ObjectClass::missing), 1u);
  store_.fail_next("head", 4, make_error(Reason::timeout, "timed out"));
  auto failed = run();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().reason, Reason::timeout);
}

TEST(ScanSources, ListsEachRuleBucketOnceNarrowedToWhatTheRulesPrefixesShare) {
  ScanOptions options;
  pipeline::Rule a;
  a.match.bucket = "photos";
  a.match.prefix = "uploads/2026/";
  pipeline::Rule b;
  b.match.bucket = "photos";
  b.match.prefix = "uploads/2025/";
  pipeline::Rule c;
  c.match.bucket = "avatars";
  options.rules = {a, b, c};
  auto sources = scan_sources(options);
  ASSERT_TRUE(sources);
  ASSERT_EQ(sources->size(), 2u);
  EXPECT_EQ((*sources)[0].bucket, "avatars");
  EXPECT_EQ((*sources)[0].prefix, "");
  EXPECT_EQ((*sources)[1].bucket, "photos");
  EXPECT_EQ((*sources)[1].prefix, "uploads/202");

  options.bucket = "photos";
  options.prefix = "uploads/2026/05/";
  sources = scan_sources(options);
  ASSERT_TRUE(sources);
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0].prefix, "uploads/2026/05/");

  options.bucket = "elsewhere";
  sources = scan_sources(options);
  ASSERT_FALSE(sources);
  EXPECT_EQ(sources.error().reason, Reason::invalid_config);
}

TEST(ScanFingerprint, TheSameCommandGivesTheSameNameAnotherOneAnother) {
  ScanOptions options;
  options.rules = pipeline::Config{}.effective_rules();
  const auto base = scan_fingerprint(options, "http://127.0.0.1:9000");
  EXPECT_EQ(base, scan_fingerprint(options, "http://127.0.0.1:9000"));
  EXPECT_NE(base, scan_fingerprint(options, "http://127.0.0.1:9100"));
  auto changed = options;
  changed.changed = true;
  EXPECT_NE(base, scan_fingerprint(changed, "http://127.0.0.1:9000"));
  auto page = options;
  page.page_size = 10;  // continuation tokens do not depend on it
  EXPECT_EQ(base, scan_fingerprint(page, "http://127.0.0.1:9000"));
}

// The whole loop in process: the scan's synthetic events through the real
// Job, then a second scan that finds nothing to do; a recipe change makes
// every object outdated, and after that is processed, nothing again.
class ScanWithJobTest : public ScanTest {
 protected:
  Result<ScanResult> run_direct() {
    pipeline::Job job(config_, pipeline::JobDeps{store_, sleeper_, failures_, health_});
    DirectEnqueuer direct([&job](const kafka::Message& message, std::stop_token stop) {
      return job.handle(message, stop);
    });
    options_.rules = config_.effective_rules();
    Scan scan(options_, ScanDeps{lister_, store_, direct, nullptr});
    return scan.run(std::nullopt, {});
  }
  void image_source(const std::string& key) {
    store_.add("raw", key, testing_support::make_image(300, 200, ".jpg"));
    lister_.add("raw", s3::ListEntry{key, 1, "etag-" + key, 1'700'000'000'000});
  }
  pipeline::fakes::RecordingSleeper sleeper_;
  FailureLog failures_;
  pipeline::fakes::SwitchableHealth health_;
};

TEST_F(ScanWithJobTest, TheWorkerTreatsSyntheticEventsLikeRealOnesAndASecondScanFindsNothing) {
  for (const std::string key : {"a.jpg", "dir/b c.jpg", "ünï+%.jpg"}) image_source(key);
  auto first = run_direct();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->counts.of(ObjectClass::missing), 3u);
  EXPECT_TRUE(failures_.failures().empty());
  ASSERT_TRUE(store_.find("processed", "ünï+%.jpg").has_value());
  const auto writes = store_.written().size();

  auto second = run_direct();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->counts.of(ObjectClass::up_to_date), 3u);
  EXPECT_EQ(second->counts.enqueued, 0u);
  EXPECT_EQ(store_.written().size(), writes);

  // A new size: outdated with --changed, and only then.
  config_.pipeline.width = 100;
  config_.pipeline.height = 100;
  auto unchanged = run_direct();
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(unchanged->counts.of(ObjectClass::up_to_date), 3u);
  options_.changed = true;
  auto outdated = run_direct();
  ASSERT_TRUE(outdated);
  EXPECT_EQ(outdated->counts.of(ObjectClass::outdated), 3u);
  const auto redone = store_.find("processed", "a.jpg");
  ASSERT_TRUE(redone.has_value());
  EXPECT_EQ(testing_support::decode(redone->body).width, 100);
  auto settled = run_direct();
  ASSERT_TRUE(settled);
  EXPECT_EQ(settled->counts.of(ObjectClass::up_to_date), 3u);
}

TEST_F(ScanWithJobTest, ARecipeChangeOfOneOutputRewritesOnlyThatOutput) {
  config_.rules = config_.effective_rules();
  auto second = config_.rules.front().outputs.front();
  second.name = "small";
  second.key_template = "small/{key}";
  second.recipe.operations = {image::Resize{64, 64}};
  config_.rules.front().outputs.push_back(second);
  for (const std::string key : {"a.jpg", "b.jpg"}) image_source(key);
  ASSERT_TRUE(run_direct());
  const auto large = store_.find("processed", "a.jpg");
  ASSERT_TRUE(large.has_value());
  const auto writes = store_.written();
  EXPECT_EQ(writes.size(), 4u);

  config_.rules.front().outputs.back().recipe.operations = {image::Resize{32, 32}};
  options_.changed = true;
  auto redone = run_direct();
  ASSERT_TRUE(redone);
  EXPECT_EQ(redone->counts.of(ObjectClass::outdated), 2u);
  const auto after = store_.written();
  ASSERT_EQ(after.size(), 6u);
  std::vector<std::string> rewritten(after.begin() + 4, after.end());
  std::sort(rewritten.begin(), rewritten.end());  // the objects are done in parallel
  EXPECT_EQ(rewritten,
            (std::vector<std::string>{"processed/small/a.jpg", "processed/small/b.jpg"}));
  EXPECT_EQ(store_.find("processed", "a.jpg")->info.etag, large->info.etag);
  EXPECT_EQ(testing_support::decode(store_.find("processed", "small/a.jpg")->body).width, 32);
}

TEST_F(ScanWithJobTest, ForcedEventsRewriteOutputsThatAreUpToDate) {
  image_source("a.jpg");
  ASSERT_TRUE(run_direct());
  const auto writes = store_.written().size();
  options_.force = true;
  auto forced = run_direct();
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->counts.of(ObjectClass::forced), 1u);
  EXPECT_EQ(store_.written().size(), writes + 1);
}

}  // namespace
}  // namespace imgpipe::backfill
