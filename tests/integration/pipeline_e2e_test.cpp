// The whole pipeline against the real local stack: the S3 server (MinIO, or
// versitygw on a stack started with STACK_S3=versitygw; `make test` runs this
// suite on both) publishes bucket events to Kafka, a real `imgpipe run`
// process consumes them and writes the resized images back.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "integration/stack.h"
#include "kafka/producer.h"
#include "s3/client.h"
#include "support/process.h"
#include "support/test_images.h"

namespace imgpipe::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing_support::ChildProcess;

constexpr int kBox = 1024;
const fs::path kPhotos = "/usr/share/backgrounds/mate";

struct Upload {
  std::string key;
  std::string bytes;
  bool multipart = false;
};

std::string slurp(const fs::path& path) {
  return testing_support::read_file(path.string());
}

// Keys exercising every escaping rule of MinIO's events: spaces, '+', '%',
// unicode, nested prefixes.
std::string awkward_key(std::size_t index, const std::string& name) {
  static const std::vector<std::string> prefixes = {"originals/",    "holiday 2026/day one/",
                                                    "a+b/c+d ",      "100% real/",
                                                    "ünïcödé/日本/", "deep/er/and/deeper/"};
  return prefixes[index % prefixes.size()] + name;
}

// Real photographs from Debian's mate-backgrounds, plus copies re-encoded
// at half size and as WebP, so that there are well over 50.
std::vector<Upload> build_corpus() {
  std::vector<Upload> corpus;
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(kPhotos)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& path = files[i];
    Upload upload{awkward_key(i, path.filename().string()), slurp(path)};
    upload.multipart = upload.bytes.size() > (12u << 20);
    corpus.push_back(std::move(upload));
    if (path.extension() == ".jpg" && fs::file_size(path) < (4u << 20)) {
      // A copy: the push_backs below may move corpus's elements.
      const std::string original = corpus.back().bytes;
      const std::string stem = path.stem().string();
      corpus.push_back({"derived/half/" + stem + " q80.jpg",
                        testing_support::reencode(original, 0.5, ".jpg[Q=80]")});
      corpus.push_back({"derived/webp/" + stem + ".webp",
                        testing_support::reencode(original, 1.0, ".webp[Q=85]")});
    }
  }
  return corpus;
}

std::pair<int, int> expected_size(const std::string& source) {
  auto [width, height] = testing_support::upright_size(source);
  if (std::max(width, height) <= kBox) return {width, height};
  const double scale = static_cast<double>(kBox) / std::max(width, height);
  return width >= height ? std::pair{kBox, static_cast<int>(std::lround(height * scale))}
                         : std::pair{static_cast<int>(std::lround(width * scale)), kBox};
}

std::set<std::string> list_keys(s3::Client& client, const std::string& bucket) {
  std::set<std::string> keys;
  std::string token;
  do {
    auto page = client.list_objects(bucket, "", token);
    if (!page) return keys;
    for (const auto& object : page->objects) keys.insert(object.key);
    token = page->is_truncated ? page->next_continuation_token : "";
  } while (!token.empty());
  return keys;
}

std::string created_event(const std::string& bucket, const std::string& escaped_key) {
  return R"({"EventName":"s3:ObjectCreated:Put","Key":")" + bucket + "/" + escaped_key +
         R"(","Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":")" + bucket +
         R"("},"object":{"key":")" + escaped_key + R"(","size":1234}}}]})";
}

class PipelineEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = unique_name("raw-it");
    target_ = unique_name("processed-it");
    group_ = unique_name("imgpipe-it");
    port_ = free_port();
    env_ = worker_env(source_, target_, group_, port_);
    log_ = "/tmp/" + group_ + ".log";
  }

  // Three outputs per photo in two formats besides the original's: the
  // same-key resize of the original design, a WebP thumbnail with a JSON
  // sidecar, and a 224x224 PNG training crop.
  void use_multi_rule_configuration() {
    config_path_ = "/tmp/" + group_ + ".yaml";
    std::ofstream config(config_path_);
    config << "rules:\n"
           << "  - name: photos\n"
           << "    match: {bucket: " << source_ << "}\n"
           << "    outputs:\n"
           << "      - {name: resized, bucket: " << target_
           << ", key: \"{key}\", resize: {width: 1024, height: 1024}}\n"
           << "      - name: thumb\n"
           << "        bucket: " << target_ << "\n"
           << "        key: \"thumbs/{key}.{format}\"\n"
           << "        resize: {width: 256, height: 256, mode: fill, gravity: attention}\n"
           << "        format: webp\n"
           << "        sidecar: true\n"
           << "      - name: square\n"
           << "        bucket: " << target_ << "\n"
           << "        key: \"train/{key}.{format}\"\n"
           << "        operations: [{square: 224}]\n"
           << "        format: png\n";
    env_["IMGPIPE_CONFIG"] = config_path_;
  }

  std::unique_ptr<ChildProcess> start_worker(const std::string& log) {
    auto worker =
        std::make_unique<ChildProcess>(std::vector<std::string>{IMGPIPE_BINARY, "run"}, env_, log);
    EXPECT_TRUE(eventually([&] { return http_status(port_, "/readyz") == 200; }, 60s))
        << testing_support::read_file(log);
    return worker;
  }

  double metric(const std::string& series) { return scrape_metric(port_, series); }

  std::string source_, target_, group_, log_, config_path_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  s3::Client client_{stack_s3_options()};
};

TEST_F(PipelineEndToEnd, MakesEveryOutputOfEveryRuleForEveryPhotoAndCountsEveryBadInput) {
  use_multi_rule_configuration();
  // setup is idempotent: the second run reports what exists and changes nothing.
  std::string output;
  ASSERT_EQ(testing_support::run_command({IMGPIPE_BINARY, "setup"}, env_, output), 0) << output;
  EXPECT_NE(output.find("bucket " + source_ + ": created"), std::string::npos) << output;
  ASSERT_EQ(testing_support::run_command({IMGPIPE_BINARY, "setup"}, env_, output), 0) << output;
  EXPECT_NE(output.find("bucket " + source_ + ": exists"), std::string::npos) << output;
  // versitygw has no bucket notification API: it publishes every event itself.
  const std::string notification = stack_s3_server() == "versitygw"
                                       ? "left to the server (s3.notifications=server)"
                                       : "already sends s3:ObjectCreated:*";
  EXPECT_NE(output.find(notification), std::string::npos) << output;
  EXPECT_EQ(output.find("created"), std::string::npos) << output;

  start_group_at_end(group_);
  auto worker = start_worker(log_);

  const auto corpus = build_corpus();
  ASSERT_GE(corpus.size(), 50u);
  std::size_t multipart = 0;
  for (const auto& upload : corpus) {
    s3::PutRequest put;
    put.body = upload.bytes;
    auto stored = upload.multipart
                      ? client_.put_object_multipart(source_, upload.key, put, 5u << 20)
                      : client_.put_object(source_, upload.key, put);
    ASSERT_TRUE(stored.ok()) << upload.key << ": " << stored.error().message;
    multipart += upload.multipart ? 1 : 0;
  }
  ASSERT_EQ(multipart, 1u) << "one photo over 8 MiB goes up in 5 MiB parts";

  // Bad input of every kind the worker must survive.
  s3::PutRequest text{"text/plain", {}, "this is not a photo", false, "", {}};
  ASSERT_TRUE(client_.put_object(source_, "bad/notes.jpg", text).ok());
  ASSERT_TRUE(client_.put_object(source_, "bad/empty.jpg", s3::PutRequest{}).ok());
  std::string truncated = corpus.front().bytes.substr(0, corpus.front().bytes.size() / 3);
  s3::PutRequest half{"image/jpeg", {}, truncated, false, "", {}};
  ASSERT_TRUE(client_.put_object(source_, "bad/truncated.jpg", half).ok());
  auto producer = kafka::Producer::create(stack_kafka());
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE(producer.value()->produce(stack_topic(), "x", "definitely { not json").ok());
  ASSERT_TRUE(producer.value()
                  ->produce(stack_topic(), "x", R"({"EventName":"s3:ObjectCreated:Put"})")
                  .ok());
  ASSERT_TRUE(
      producer.value()
          ->produce(stack_topic(), source_ + "/ghost.jpg", created_event(source_, "ghost.jpg"))
          .ok());

  const double good = static_cast<double>(corpus.size());
  const bool finished = eventually(
      [&] {
        return metric("imgpipe_objects_processed_total") >= good &&
               metric("imgpipe_objects_failed_total{reason=\"malformed_event\"}") >= 2 &&
               metric("imgpipe_objects_failed_total{reason=\"object_missing\"}") >= 1 &&
               metric("imgpipe_objects_failed_total{reason=\"not_an_image\"}") >= 1 &&
               metric("imgpipe_objects_failed_total{reason=\"empty_object\"}") >= 1 &&
               metric("imgpipe_objects_failed_total{reason=\"decode_failed\"}") >= 1;
      },
      240s);
  ASSERT_TRUE(finished) << "processed " << metric("imgpipe_objects_processed_total") << " of "
                        << good << "\n"
                        << testing_support::read_file(log_);

  // Exactly one output per photo, nothing for the bad inputs, nothing else.
  std::set<std::string> expected_keys;
  for (const auto& upload : corpus) {
    expected_keys.insert(upload.key);
    expected_keys.insert("thumbs/" + upload.key + ".webp");
    expected_keys.insert("thumbs/" + upload.key + ".webp.json");
    expected_keys.insert("train/" + upload.key + ".png");
  }
  EXPECT_EQ(list_keys(client_, target_), expected_keys);

  for (const auto& upload : corpus) {
    auto result = client_.get_object(target_, upload.key);
    ASSERT_TRUE(result.ok()) << upload.key << ": " << result.error().message;
    const auto decoded = testing_support::decode(result->body);
    const auto [width, height] = expected_size(upload.bytes);
    const int longest = std::max(decoded.width, decoded.height);
    EXPECT_EQ(longest, std::max(width, height)) << upload.key;
    EXPECT_NEAR(std::min(decoded.width, decoded.height), std::min(width, height), 1) << upload.key;
    EXPECT_EQ(decoded.width >= decoded.height, width >= height)
        << upload.key << ": orientation kept";
    EXPECT_FALSE(result->info.metadata["imgpipe-source-etag"].empty()) << upload.key;

    const std::string& stem = upload.key;  // the templates keep the whole key
    auto thumb = client_.get_object(target_, "thumbs/" + stem + ".webp");
    ASSERT_TRUE(thumb.ok()) << stem << ": " << thumb.error().message;
    const auto thumb_pixels = testing_support::decode(thumb->body);
    EXPECT_EQ(thumb_pixels.loader, "webpload_buffer") << stem;
    EXPECT_EQ(thumb_pixels.width, 256) << stem;
    EXPECT_EQ(thumb_pixels.height, 256) << stem;
    EXPECT_EQ(thumb->info.content_type, "image/webp") << stem;
    EXPECT_EQ(thumb->info.metadata["imgpipe-variant"], "thumb") << stem;
    EXPECT_EQ(thumb->info.metadata["imgpipe-phash"].size(), 16u) << stem;

    auto sidecar = client_.get_object(target_, "thumbs/" + stem + ".webp.json");
    ASSERT_TRUE(sidecar.ok()) << stem;
    const auto facts = nlohmann::json::parse(sidecar->body);
    EXPECT_EQ(facts["source"]["key"], upload.key);
    EXPECT_EQ(facts["source"]["bytes"], upload.bytes.size());
    EXPECT_EQ(facts["output"]["width"], 256);
    EXPECT_EQ(facts["output"]["bytes"], thumb->body.size());
    EXPECT_EQ(facts["output"]["phash"], thumb->info.metadata["imgpipe-phash"]);

    auto square = client_.get_object(target_, "train/" + stem + ".png");
    ASSERT_TRUE(square.ok()) << stem;
    const auto square_pixels = testing_support::decode(square->body);
    EXPECT_EQ(square_pixels.loader, "pngload_buffer") << stem;
    EXPECT_EQ(square_pixels.width, 224) << stem;
    EXPECT_EQ(square_pixels.height, 224) << stem;
  }

  // Counts are exact: the group started at the end of the topic.
  EXPECT_EQ(metric("imgpipe_objects_processed_total"), good);
  EXPECT_EQ(metric("imgpipe_outputs_written_total{variant=\"thumb\"}"), good);
  EXPECT_EQ(metric("imgpipe_outputs_written_total{variant=\"square\"}"), good);
  // What an operator needs beside the pipeline's counters.
  EXPECT_EQ(metric("imgpipe_build_info{version=\"" EXPECTED_VERSION "\",libvips=\"" EXPECTED_LIBVIPS
                   "\",librdkafka=\"" EXPECTED_LIBRDKAFKA "\",libvips_simd=\"on\"}"),
            1);
  EXPECT_GT(metric("process_resident_memory_bytes"), 10e6);
  EXPECT_GT(metric("process_cpu_seconds_total"), 0.1);
  // Everything committed: the lag from librdkafka's statistics (every 5 s) drops to 0.
  EXPECT_TRUE(eventually([&] { return metric("imgpipe_consumer_lag") == 0; }, 20s));
  EXPECT_GT(metric("imgpipe_last_commit_progress_timestamp_seconds"), 1.7e9);
  EXPECT_EQ(metric("imgpipe_objects_failed_total{reason=\"malformed_event\"}"), 2);
  EXPECT_EQ(metric("imgpipe_objects_failed_total{reason=\"object_missing\"}"), 1);

  const std::string log = testing_support::read_file(log_);
  EXPECT_NE(log.find(R"("event":"s3:ObjectCreated:CompleteMultipartUpload")"), std::string::npos);
  EXPECT_NE(log.find(R"("msg":"processed")"), std::string::npos);

  // SIGTERM: finishes, commits, exits 0.
  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(60s), 0) << testing_support::read_file(log_);

  // A restarted worker in the same group finds nothing left to do: the
  // offsets were committed.
  auto restarted = start_worker(log_ + ".2");
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(metric("imgpipe_events_received_total{kind=\"created\"}"), 0)
      << testing_support::read_file(log_ + ".2");
  restarted->signal(SIGTERM);
  EXPECT_EQ(restarted->wait(60s), 0);
}

// On the versitygw stack only (VGW_ONLY_TESTS in the Makefile): the server
// has no bucket notification API, and setup says what to do instead.
TEST_F(PipelineEndToEnd, SetupExplainsTheMissingNotificationApi_on_versitygw) {
  env_["IMGPIPE_S3_NOTIFICATIONS"] = "bucket";
  std::string output;
  EXPECT_EQ(testing_support::run_command({IMGPIPE_BINARY, "setup"}, env_, output), 1) << output;
  EXPECT_NE(output.find("NotImplemented"), std::string::npos) << output;
  EXPECT_NE(output.find("s3.notifications=server"), std::string::npos) << output;
}

TEST_F(PipelineEndToEnd, IsNotReadyWhileS3IsUnreachableAndStillExitsCleanly) {
  env_["IMGPIPE_S3_ENDPOINT"] = "http://127.0.0.1:" + std::to_string(free_port());
  start_group_at_end(group_);
  ChildProcess worker({IMGPIPE_BINARY, "run"}, env_, log_);
  EXPECT_TRUE(eventually([&] { return http_status(port_, "/healthz") == 200; }, 30s));
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(http_status(port_, "/readyz"), 503);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(30s), 0) << testing_support::read_file(log_);
}

// Events it cannot finish (the object store is down) wait in Kafka: the
// worker's own /metrics shows them as lag, per partition and in total.
TEST_F(PipelineEndToEnd, ExportsTheLagOfEventsItCannotFinishYet) {
  std::string output;
  ASSERT_EQ(testing_support::run_command({IMGPIPE_BINARY, "setup"}, env_, output), 0) << output;
  start_group_at_end(group_);
  env_["IMGPIPE_S3_ENDPOINT"] = "http://127.0.0.1:" + std::to_string(free_port());
  ChildProcess worker({IMGPIPE_BINARY, "run"}, env_, log_);
  ASSERT_TRUE(eventually([&] { return http_status(port_, "/healthz") == 200; }, 30s));
  constexpr int kWaiting = 4;
  const std::string jpeg = testing_support::make_image(64, 48, ".jpg");
  s3::PutRequest put;
  put.body = jpeg;  // a view: the bytes must outlive the request
  for (int i = 0; i < kWaiting; ++i) {
    ASSERT_TRUE(client_.put_object(source_, "waiting/" + std::to_string(i) + ".jpg", put).ok());
  }
  EXPECT_TRUE(eventually([&] { return metric("imgpipe_consumer_lag") >= kWaiting; }, 30s))
      << testing_support::read_file(log_);
  // The sum of the partitions' series is the total (two scrapes: a new
  // report may land between them, hence eventually).
  const auto partitions_sum = [&] {
    double sum = 0;
    for (int partition = 0; partition < 16; ++partition) {
      sum += std::max(
          0.0, metric("imgpipe_partition_lag{partition=\"" + std::to_string(partition) + "\"}"));
    }
    return sum;
  };
  EXPECT_TRUE(eventually([&] { return partitions_sum() == metric("imgpipe_consumer_lag"); }, 15s));
  EXPECT_GT(metric("imgpipe_last_commit_progress_timestamp_seconds"), 1.7e9);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(60s), 0) << testing_support::read_file(log_);
}

TEST(WorkerCommandLine, RefusesAnInvalidConfigurationNamingEveryProblem) {
  std::string output;
  const int status = testing_support::run_command(
      {IMGPIPE_BINARY, "run"},
      {{"IMGPIPE_WIDTH", "0"}, {"IMGPIPE_TARGET_BUCKET", "raw"}, {"IMGPIPE_SOURCE_BUCKET", "raw"}},
      output);
  EXPECT_EQ(status, 2);
  EXPECT_NE(output.find("pipeline.width: must be between 1 and 16383"), std::string::npos)
      << output;
  EXPECT_NE(output.find("pipeline.target_bucket: its outputs could trigger rule"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace imgpipe::integration
