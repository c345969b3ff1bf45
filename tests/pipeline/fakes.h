// In-process fakes for the pipeline's seams: an object store with injectable
// failures, a sleeper that records back-offs, an event source fed from a list.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
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
  // The next `count` calls of `operation` ("get" or "put") fail with `error`.
  void fail_next(const std::string& operation, int count, Error error) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < count; ++i) failures_[operation].push_back(error);
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
    return it->second;
  }
  Result<std::string> put_object(const std::string& bucket, const std::string& key,
                                 const s3::PutRequest& request) override {
    std::lock_guard lock(mutex_);
    ++calls_["put"];
    if (auto failure = take_failure("put")) return *failure;
    objects_[{bucket, key}] = s3::Object{
        s3::ObjectInfo{"out-" + key, request.body.size(), request.content_type, request.metadata},
        std::string(request.body)};
    return std::string("out-" + key);
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
  std::map<std::string, std::deque<Error>> failures_;
  std::map<std::string, int> calls_;
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

}  // namespace imgpipe::pipeline::fakes
