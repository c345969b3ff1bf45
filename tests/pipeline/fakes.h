// In-process fakes for the pipeline's seams: an object store with injectable
// failures, a sleeper that records back-offs, an event source fed from a list.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kafka/consumer.h"
#include "pipeline/job.h"
#include "s3/object_store.h"

namespace imgpipe::pipeline::fakes {

class FakeStore final : public s3::ObjectStore {
 public:
  void add(const std::string& bucket, const std::string& key, std::string body,
           std::map<std::string, std::string> metadata = {}) {
    std::lock_guard lock(mutex_);
    objects_[{bucket, key}] = s3::Object{
        s3::ObjectInfo{"etag-" + key, body.size(), "", std::move(metadata)}, std::move(body)};
  }
  // The next `count` calls of `operation` ("get", "put", "head", "delete",
  // "bucket") fail with `error`.
  void fail_next(const std::string& operation, int count, Error error) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < count; ++i) failures_[operation].push_back(error);
  }
  // Right after the next GET of bucket/key the object becomes another
  // version (ETag "etag-<key>-v2"): an upload racing with the Job.
  void new_version_after_next_get(const std::string& bucket, const std::string& key) {
    std::lock_guard lock(mutex_);
    new_version_after_get_ = {bucket, key};
  }
  // Right after the next GET (of any object) bucket/key holds `body` with
  // `metadata`: another writer between the Job's first look and its PUT.
  void add_after_next_get(const std::string& bucket, const std::string& key, std::string body,
                          std::map<std::string, std::string> metadata) {
    std::lock_guard lock(mutex_);
    added_after_get_ = {
        {bucket, key},
        s3::Object{s3::ObjectInfo{"etag-" + key, body.size(), "", std::move(metadata)},
                   std::move(body)}};
  }
  std::optional<s3::Object> find(const std::string& bucket, const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = objects_.find({bucket, key});
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t count(const std::string& bucket) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [where, object] : objects_) n += where.first == bucket ? 1 : 0;
    return n;
  }
  int calls(const std::string& operation) {
    std::lock_guard lock(mutex_);
    return calls_[operation];
  }

  using s3::ObjectStore::get_object;
  Result<s3::Object> get_object(const std::string& bucket, const std::string& key,
                                const s3::GetOptions& options) override {
    std::lock_guard lock(mutex_);
    ++calls_["get"];
    if (auto failure = take_failure("get")) return *failure;
    auto it = objects_.find({bucket, key});
    if (it == objects_.end()) return make_error(Reason::object_missing, "S3 NoSuchKey: " + key);
    if (options.max_bytes != 0 && it->second.body.size() > options.max_bytes) {
      return make_error(Reason::too_many_bytes, "over the limit: " + key);
    }
    if (!options.if_match.empty() && options.if_match != it->second.info.etag) {
      return make_error(Reason::source_changed, "not ETag " + options.if_match + ": " + key);
    }
    s3::Object object = it->second;
    if (added_after_get_) {
      objects_[added_after_get_->first] = std::move(added_after_get_->second);
      added_after_get_.reset();
    }
    if (new_version_after_get_ == std::pair{bucket, key}) {
      it->second.info.etag = "etag-" + key + "-v2";
      new_version_after_get_.reset();
    }
    return object;
  }
  Result<std::string> put_object(const std::string& bucket, const std::string& key,
                                 const s3::PutRequest& request) override {
    std::lock_guard lock(mutex_);
    ++calls_["put"];
    if (auto failure = take_failure("put")) return *failure;
    const auto existing = objects_.find({bucket, key});
    const bool exists = existing != objects_.end();
    if ((request.if_none_match && exists) ||
        (!request.if_match.empty() &&
         (!exists || existing->second.info.etag != request.if_match))) {
      return make_error(Reason::write_conflict, "precondition failed: " + key);
    }
    // A new ETag for every write, as S3 gives when the content differs.
    const std::string etag = "out-" + key + "-" + std::to_string(++writes_);
    objects_[{bucket, key}] = s3::Object{
        s3::ObjectInfo{etag, request.body.size(), request.content_type, request.metadata},
        std::string(request.body)};
    written_.push_back(bucket + "/" + key);
    return etag;
  }
  Result<s3::ObjectInfo> head_object(const std::string& bucket, const std::string& key,
                                     std::stop_token /*stop*/) override {
    std::lock_guard lock(mutex_);
    ++calls_["head"];
    if (auto failure = take_failure("head")) return *failure;
    auto it = objects_.find({bucket, key});
    if (it == objects_.end()) return make_error(Reason::object_missing, "S3 NoSuchKey: " + key);
    return it->second.info;
  }
  Status delete_object(const std::string& bucket, const std::string& key,
                       std::stop_token /*stop*/) override {
    std::lock_guard lock(mutex_);
    ++calls_["delete"];
    if (auto failure = take_failure("delete")) return *failure;
    objects_.erase({bucket, key});
    return ok_status();
  }
  Result<bool> bucket_exists(const std::string& /*bucket*/) override {
    std::lock_guard lock(mutex_);
    ++calls_["bucket"];
    if (auto failure = take_failure("bucket")) return *failure;
    return true;
  }
  void remove(const std::string& bucket, const std::string& key) {
    std::lock_guard lock(mutex_);
    objects_.erase({bucket, key});
  }
  // "bucket/key" of every successful put, in order.
  std::vector<std::string> written() {
    std::lock_guard lock(mutex_);
    return written_;
  }

 private:
  std::optional<Error> take_failure(const std::string& operation) {
    auto& queue = failures_[operation];
    if (queue.empty()) return std::nullopt;
    Error error = queue.front();
    queue.pop_front();
    return error;
  }
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, s3::Object> objects_;
  std::optional<std::pair<std::string, std::string>> new_version_after_get_;
  std::optional<std::pair<std::pair<std::string, std::string>, s3::Object>> added_after_get_;
  std::map<std::string, std::deque<Error>> failures_;
  std::map<std::string, int> calls_;
  std::vector<std::string> written_;
  int writes_ = 0;
};

class RecordingSleeper final : public Sleeper {
 public:
  bool sleep_for(std::chrono::milliseconds duration, std::stop_token stop) override {
    std::lock_guard lock(mutex_);
    sleeps.push_back(duration);
    return !stop.stop_requested();
  }
  std::mutex mutex_;
  std::vector<std::chrono::milliseconds> sleeps;
};

// Records every dead letter; the next `fail_next` sends fail.
class RecordingDeadLetters final : public DeadLetterSink {
 public:
  struct Sent {
    kafka::Message original;
    DeadLetter letter;
  };
  Status send(const kafka::Message& original, const DeadLetter& letter,
              std::stop_token /*stop*/) override {
    std::lock_guard lock(mutex_);
    if (failures_ > 0) {
      --failures_;
      return make_error(Reason::kafka_error, "broker down (fake)");
    }
    sent_.push_back(Sent{original, letter});
    return ok_status();
  }
  void fail_next(int count) {
    std::lock_guard lock(mutex_);
    failures_ = count;
  }
  std::vector<Sent> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  std::mutex mutex_;
  std::vector<Sent> sent_;
  int failures_ = 0;
};

// Reachable or not, as the test says; counts how often it was asked.
class SwitchableHealth final : public StoreHealth {
 public:
  bool reachable(std::string* detail = nullptr) override {
    ++asked;
    if (detail != nullptr) *detail = up ? "" : "down (fake)";
    return up.load();
  }
  std::atomic<bool> up{true};
  std::atomic<int> asked{0};
};

}  // namespace imgpipe::pipeline::fakes
