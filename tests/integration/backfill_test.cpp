// `imgpipe backfill` against the real stack: objects uploaded before the
// bucket notification existed (no events at all), outputs deleted, sources
// overwritten while no worker ran; the dry run must count exactly those, the
// real run enqueue them for a real `imgpipe run`, and a second run find
// nothing. Then a recipe change (--changed) and a backfill killed half way.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "integration/stack.h"
#include "kafka/topic_reader.h"
#include "s3/client.h"
#include "support/process.h"
#include "support/test_images.h"

namespace imgpipe::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing_support::ChildProcess;

// "key" -> ETag of every object under `prefix`.
std::map<std::string, std::string> list_etags(s3::Client& client, const std::string& bucket,
                                              const std::string& prefix) {
  std::map<std::string, std::string> etags;
  std::string token;
  do {
    auto page = client.list_objects(bucket, prefix, token);
    if (!page) return etags;
    for (const auto& object : page->objects) etags[object.key] = object.etag;
    token = page->is_truncated ? page->next_continuation_token : "";
  } while (!token.empty());
  return etags;
}

std::string numbered(const std::string& prefix, int index) {
  char name[16];
  std::snprintf(name, sizeof name, "%04d.jpg", index);
  return prefix + name;
}

class Backfill : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = unique_name("raw-bf");
    target_ = unique_name("processed-bf");
    group_ = unique_name("imgpipe-bf");
    port_ = free_port();
    env_ = worker_env(source_, target_, group_, port_);
    state_dir_ = "/tmp/" + group_ + "-state";
    env_["IMGPIPE_STATE_DIR"] = state_dir_;
    config_path_ = "/tmp/" + group_ + ".yaml";
    write_config(48);
    env_["IMGPIPE_CONFIG"] = config_path_;
    ASSERT_TRUE(client_.create_bucket(source_)) << "MinIO at " << stack_s3_options().endpoint;
    ASSERT_TRUE(client_.create_bucket(target_));
    photo_ = testing_support::make_image(160, 120, ".jpg");
    other_photo_ = testing_support::make_image(120, 160, ".jpg[Q=70]");
  }
  void TearDown() override { fs::remove_all(state_dir_); }

  // Two outputs per photo: a thumbnail of `thumb_box` and a WebP web copy.
  void write_config(int thumb_box) {
    std::ofstream config(config_path_, std::ios::trunc);
    config << "rules:\n"
           << "  - name: photos\n"
           << "    match: {bucket: " << source_ << ", suffix: .jpg}\n"
           << "    outputs:\n"
           << "      - {name: thumb, bucket: " << target_ << ", key: \"thumbs/{key}\", resize: "
           << "{width: " << thumb_box << ", height: " << thumb_box << "}}\n"
           << "      - {name: web, bucket: " << target_ << ", key: \"web/{key}.{format}\", "
           << "resize: {width: 96, height: 96}, format: webp}\n";
  }

  // Uploads `count` objects named prefix0000.jpg ... with `bytes`, 8 at a time.
  void upload(const std::string& prefix, int first, int count, const std::string& bytes) {
    std::atomic<int> next{first};
    std::atomic<int> failures{0};
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
          s3::Client client(stack_s3_options());
          for (int i = next++; i < first + count; i = next++) {
            s3::PutRequest put;
            put.content_type = "image/jpeg";
            put.body = bytes;
            if (!client.put_object(source_, numbered(prefix, i), put)) ++failures;
          }
        });
      }
    }
    ASSERT_EQ(failures.load(), 0);
  }

  std::unique_ptr<ChildProcess> start_worker(const std::string& log) {
    auto worker =
        std::make_unique<ChildProcess>(std::vector<std::string>{IMGPIPE_BINARY, "run"}, env_, log);
    EXPECT_TRUE(eventually([&] { return http_status(port_, "/readyz") == 200; }, 60s))
        << testing_support::read_file(log);
    return worker;
  }
  void stop_worker(std::unique_ptr<ChildProcess>& worker, const std::string& log) {
    worker->signal(SIGTERM);
    EXPECT_EQ(worker->wait(60s), 0) << testing_support::read_file(log);
    worker.reset();
  }

  // Runs `imgpipe backfill --json ARGS`; the summary, with "exit" added.
  nlohmann::json backfill(std::vector<std::string> args) {
    args.insert(args.begin(), {IMGPIPE_BINARY, "backfill", "--json", "--progress-interval", "1"});
    std::string output;
    const int status = testing_support::run_command(args, env_, output);
    last_output_ = output;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("{\"complete\"")) {
        auto summary = nlohmann::json::parse(line);
        summary["exit"] = status;
        return summary;
      }
    }
    ADD_FAILURE() << "no summary from backfill (exit " << status << "):\n" << output;
    return {{"exit", status}};
  }

  // Why uploads prefix`first`.. to prefix`first+count-1` lack outputs: for each
  // key without both, how many records of the event topic name it (MinIO
  // escapes the '/', versitygw does not, and names it in its ARN too) and the
  // worker's log lines about it;
  // then what the worker counted. Tells a lost event from a dropped one.
  std::string why_outputs_missing(const std::string& prefix, int first, int count,
                                  const std::string& log) {
    const auto outputs = list_etags(client_, target_, "");
    const auto records = records_naming_bucket(source_);
    std::istringstream log_lines(testing_support::read_file(log));
    std::vector<std::string> lines;
    for (std::string line; std::getline(log_lines, line);) lines.push_back(line);
    std::ostringstream why;
    for (int i = first; i < first + count; ++i) {
      const std::string key = numbered(prefix, i);
      const bool thumb = outputs.contains("thumbs/" + key);
      const bool web = outputs.contains("web/" + key + ".webp");
      if (thumb && web) continue;
      std::string escaped = key;
      escaped.replace(escaped.find('/'), 1, "%2F");
      const auto names = [&](const std::string& text) {
        return text.find("\"" + key + "\"") != std::string::npos ||
               text.find("\"" + escaped + "\"") != std::string::npos ||
               text.find(":::/" + source_ + "/" + key + "\"") !=
                   std::string::npos;  // versitygw's ARN
      };
      why << key << ": thumb " << thumb << ", web " << web << "; records in the topic: "
          << (records ? std::to_string(std::count_if(records->begin(), records->end(), names))
                      : std::string("(topic not readable)"))
          << "\n";
      for (const auto& line : lines) {
        if (names(line)) why << "  " << line << "\n";
      }
    }
    for (const auto& output : outputs) {
      const bool expected = (output.first.starts_with("thumbs/" + prefix) ||
                             output.first.starts_with("web/" + prefix));
      if (!expected) why << "output of another upload: " << output.first << "\n";
    }
    return why.str() + metric_lines(port_, "imgpipe_objects_") + "log of the worker:\n";
  }

  // Waits until the worker has processed `objects`, then until a dry run
  // (with `args`) finds nothing to do. Dry runs are spaced out: each HEADs
  // every output, and on two cores that load would slow the worker down.
  bool settles(double objects, const std::vector<std::string>& args, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!eventually(
            [&] { return scrape_metric(port_, "imgpipe_objects_processed_total") >= objects; },
            timeout)) {
      return false;
    }
    std::vector<std::string> dry = args;
    dry.push_back("--dry-run");
    while (std::chrono::steady_clock::now() < deadline) {
      if (backfill(dry).value("to_do", -1) == 0) return true;
      std::this_thread::sleep_for(2s);
    }
    return false;
  }

  std::string source_, target_, group_, config_path_, state_dir_, last_output_;
  std::string photo_, other_photo_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  s3::Client client_{stack_s3_options()};
};

TEST_F(Backfill, FindsExactlyWhatIsMissingOrStaleEnqueuesItAndASecondRunFindsNothing) {
  constexpr int kBefore = 2000;  // uploaded before the notification: no events
  constexpr int kLive = 100;     // uploaded with the worker running
  upload("old/", 0, kBefore, photo_);

  std::string output;
  ASSERT_EQ(testing_support::run_command({IMGPIPE_BINARY, "setup"}, env_, output), 0) << output;
  start_group_at_end(group_, {source_, kBefore});
  const std::string log = "/tmp/" + group_ + ".log";
  env_["IMGPIPE_LOG_LEVEL"] = "debug";  // says why, should an event be skipped
  auto worker = start_worker(log);
  env_.erase("IMGPIPE_LOG_LEVEL");
  upload("new/", 0, kLive, photo_);
  ASSERT_TRUE(
      eventually([&] { return list_etags(client_, target_, "").size() == 2 * kLive; }, 120s))
      << why_outputs_missing("new/", 0, kLive, log) << testing_support::read_file(log);

  // 50 lose their outputs; 50 are overwritten while no worker runs.
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(client_.delete_object(target_, "thumbs/" + numbered("new/", i)));
    ASSERT_TRUE(client_.delete_object(target_, "web/" + numbered("new/", i) + ".webp"));
  }
  stop_worker(worker, log);
  upload("new/", 50, 50, other_photo_);

  auto dry = backfill({"--dry-run"});
  EXPECT_EQ(dry["exit"], 0) << last_output_;
  EXPECT_EQ(dry["listed"], kBefore + kLive);
  EXPECT_EQ(dry["matched"], kBefore + kLive);
  EXPECT_EQ(dry["missing"], kBefore + 50);
  EXPECT_EQ(dry["stale"], 50);
  EXPECT_EQ(dry["up_to_date"], 0);
  EXPECT_EQ(dry["enqueued"], 0);
  // The first keys of each class (in the order the checks finished).
  ASSERT_EQ(dry["samples"]["stale"].size(), 10u) << dry.dump();
  for (const auto& key : dry["samples"]["stale"]) {
    const std::string text = key.get<std::string>();
    EXPECT_TRUE(text >= source_ + "/" + numbered("new/", 50) &&
                text <= source_ + "/" + numbered("new/", 99))
        << text;
  }

  auto run = backfill({});
  EXPECT_EQ(run["exit"], 0) << last_output_;
  EXPECT_EQ(run["enqueued"], kBefore + kLive);
  EXPECT_FALSE(fs::exists(run["checkpoint"].get<std::string>())) << "removed once complete";

  worker = start_worker(log + ".2");
  ASSERT_TRUE(settles(kBefore + kLive, {}, 300s))
      << last_output_ << testing_support::read_file(log + ".2");
  const auto outputs = list_etags(client_, target_, "");
  EXPECT_EQ(outputs.size(), 2u * (kBefore + kLive));
  auto again = backfill({});
  EXPECT_EQ(again["exit"], 0);
  EXPECT_EQ(again["up_to_date"], kBefore + kLive);
  EXPECT_EQ(again["enqueued"], 0);
  // The overwritten ones were rendered from the new version (portrait).
  auto redone = client_.get_object(target_, "thumbs/" + numbered("new/", 60));
  ASSERT_TRUE(redone);
  EXPECT_LT(testing_support::decode(redone->body).width,
            testing_support::decode(redone->body).height);
  stop_worker(worker, log + ".2");

  // A new thumbnail size: only the thumbnails are outdated and rewritten.
  write_config(32);
  auto changed_dry = backfill({"--changed", "--dry-run"});
  EXPECT_EQ(changed_dry["outdated"], kBefore + kLive);
  EXPECT_EQ(backfill({"--dry-run"})["to_do"], 0) << "without --changed a recipe is not compared";
  worker = start_worker(log + ".3");
  auto changed = backfill({"--changed"});
  EXPECT_EQ(changed["exit"], 0) << last_output_;
  EXPECT_EQ(changed["enqueued"], kBefore + kLive);
  ASSERT_TRUE(settles(kBefore + kLive, {"--changed"}, 300s)) << last_output_;
  const auto after = list_etags(client_, target_, "");
  ASSERT_EQ(after.size(), outputs.size());
  int thumbs_rewritten = 0;
  int web_rewritten = 0;
  for (const auto& [key, etag] : after) {
    const bool rewritten = outputs.at(key) != etag;
    (key.starts_with("thumbs/") ? thumbs_rewritten : web_rewritten) += rewritten ? 1 : 0;
  }
  EXPECT_EQ(thumbs_rewritten, kBefore + kLive);
  EXPECT_EQ(web_rewritten, 0);
  auto thumb = client_.get_object(target_, "thumbs/" + numbered("old/", 7));
  ASSERT_TRUE(thumb);
  EXPECT_EQ(testing_support::decode(thumb->body).width, 32);
  stop_worker(worker, log + ".3");
}

TEST_F(Backfill, ResumesAfterBeingKilledAndEnqueuesNoObjectMoreThanTwice) {
  constexpr int kObjects = 600;
  upload("k/", 0, kObjects, photo_);
  start_group_at_end(group_, {source_, kObjects});

  const std::string log = "/tmp/" + group_ + "-killed.log";
  {
    ChildProcess killed({IMGPIPE_BINARY, "backfill", "--page-size", "50", "--rate", "150",
                         "--progress-interval", "0.5"},
                        env_, log);
    // Killed once a few pages are checkpointed.
    const bool checkpointed = eventually(
        [&] {
          if (!fs::exists(state_dir_)) return false;
          for (const auto& file : fs::directory_iterator(state_dir_)) {
            if (file.path().extension() != ".json") continue;
            const auto text = testing_support::read_file(file.path().string());
            const auto json = nlohmann::json::parse(text, nullptr, false);
            if (!json.is_discarded() && json["counts"]["listed"].get<int>() >= 200) return true;
          }
          return false;
        },
        60s);
    ASSERT_TRUE(checkpointed) << testing_support::read_file(log);
    killed.signal(SIGKILL);
    EXPECT_EQ(killed.wait(10s), 128 + SIGKILL);
  }
  auto resumed = backfill({"--page-size", "50"});
  EXPECT_EQ(resumed["exit"], 0) << last_output_;
  EXPECT_NE(last_output_.find("resuming from"), std::string::npos) << last_output_;
  EXPECT_EQ(resumed["listed"], kObjects) << "the counts continue the checkpoint's";

  // Every object enqueued at least once and at most twice.
  std::map<std::string, int> enqueued;
  auto read = kafka::read_topic(stack_kafka(), stack_topic(), [&](const kafka::Message& message) {
    if (message.key.starts_with(source_ + "/")) {
      ++enqueued[message.key];
    }
  });
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(enqueued.size(), static_cast<std::size_t>(kObjects));
  int twice = 0;
  for (const auto& [key, times] : enqueued) {
    EXPECT_LE(times, 2) << key;
    twice += times == 2 ? 1 : 0;
  }
  EXPECT_LE(twice, 50) << "at most the page that was under way when killed";

  // The same final state: every output, and nothing left to do.
  auto worker = start_worker(log + ".worker");
  ASSERT_TRUE(settles(kObjects, {}, 180s)) << last_output_;
  EXPECT_EQ(list_etags(client_, target_, "").size(), 2u * kObjects);
  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(60s), 0);
}

TEST_F(Backfill, ReconcileEnqueuesWhatIsMissingEachIntervalAndExportsWhatItFound) {
  constexpr int kObjects = 30;
  upload("lost/", 0, kObjects, photo_);  // as if their events were lost
  start_group_at_end(group_, {source_, kObjects});
  const std::string log = "/tmp/" + group_ + "-reconcile.log";
  auto worker = start_worker(log + ".worker");
  const int metrics_port = free_port();
  ChildProcess reconcile({IMGPIPE_BINARY, "reconcile", "--every", "3s", "--http-listen",
                          "127.0.0.1:" + std::to_string(metrics_port)},
                         env_, log);
  const auto metric = [&](const std::string& series) {
    return scrape_metric(metrics_port, series);
  };
  ASSERT_TRUE(eventually(
      [&] {
        return metric("imgpipe_reconcile_objects_found_total{class=\"missing\"}") >= kObjects;
      },
      60s))
      << testing_support::read_file(log);
  EXPECT_GE(metric("imgpipe_reconcile_enqueued_total"), kObjects);
  // A later run finds them done, and enqueues nothing more.
  ASSERT_TRUE(eventually(
      [&] {
        return metric("imgpipe_reconcile_objects_found_total{class=\"up_to_date\"}") >= kObjects;
      },
      120s))
      << testing_support::read_file(log);
  const double enqueued = metric("imgpipe_reconcile_enqueued_total");
  const double runs = metric("imgpipe_reconcile_runs_total{outcome=\"complete\"}");
  ASSERT_TRUE(eventually(
      [&] { return metric("imgpipe_reconcile_runs_total{outcome=\"complete\"}") > runs; }, 30s));
  EXPECT_EQ(metric("imgpipe_reconcile_enqueued_total"), enqueued);
  EXPECT_GT(metric("imgpipe_reconcile_last_run_timestamp_seconds"), 1.7e9);
  EXPECT_GT(metric("imgpipe_reconcile_objects_checked_total"), 2.0 * kObjects - 1);
  EXPECT_EQ(list_etags(client_, target_, "").size(), 2u * kObjects);
  reconcile.signal(SIGTERM);
  EXPECT_EQ(reconcile.wait(30s), 0) << testing_support::read_file(log);
  stop_worker(worker, log + ".worker");
}

TEST_F(Backfill, RefusesBadArgumentsWithStatusTwo) {
  std::string output;
  EXPECT_EQ(testing_support::run_command({IMGPIPE_BINARY, "backfill", "--bucket", "not-a-rules"},
                                         env_, output),
            2)
      << output;
  EXPECT_NE(output.find("no rule's source bucket"), std::string::npos) << output;
  EXPECT_EQ(testing_support::run_command({IMGPIPE_BINARY, "backfill", "--since", "yesterday"}, env_,
                                         output),
            2);
  EXPECT_EQ(
      testing_support::run_command({IMGPIPE_BINARY, "reconcile", "--every", "soon"}, env_, output),
      2);
}

TEST_F(Backfill, FailsWithStatusOneAndTheReasonWhenS3IsUnreachable) {
  env_["IMGPIPE_S3_ENDPOINT"] = "http://127.0.0.1:" + std::to_string(free_port());
  std::string output;
  EXPECT_EQ(testing_support::run_command({IMGPIPE_BINARY, "backfill", "--dry-run"}, env_, output),
            1)
      << output;
  EXPECT_NE(output.find("imgpipe backfill: "), std::string::npos) << output;
  EXPECT_NE(output.find("127.0.0.1"), std::string::npos) << "says where it tried: " << output;
}

}  // namespace
}  // namespace imgpipe::integration
