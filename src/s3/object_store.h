// ObjectStore: the narrow interface the worker uses to read source objects and
// write results. s3::Client implements it over HTTP; tests substitute fakes
// that hold objects in memory or inject failures.
//
// Errors carry a Reason the caller acts on: object_missing (no such object or
// bucket), access_denied, invalid_request, write_conflict (a conditional PUT
// found another object than it was told to expect), unavailable and timeout
// (transient: retry later).
//
// Thread-safety: implementations must allow concurrent calls from many
// threads on one instance.
#pragma once

#include <cstdint>
#include <map>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace imgpipe::s3 {

struct ObjectInfo {
  std::string etag;  // without the surrounding quotes S3 puts on the wire
  std::uint64_t size = 0;
  std::string content_type;
  // User metadata: x-amz-meta-* headers without the prefix, lower-case names.
  std::map<std::string, std::string> metadata;
};

struct Object {
  ObjectInfo info;
  std::string body;
};

struct PutRequest {
  std::string content_type;  // empty: not sent, the store picks its default
  // User metadata, sent as x-amz-meta-<name>. Names are sent lower-case and
  // must be HTTP tokens; values must be non-empty printable ASCII.
  std::map<std::string, std::string> metadata;
  std::string_view body;       // must stay valid until the call returns
  bool if_none_match = false;  // If-None-Match: * (fail when the key exists)
  std::string if_match;        // an ETag (no quotes): write only over exactly that object
  std::stop_token stop{};      // requested: the transfer is aborted (cancelled)
};

// One entry of a bucket listing.
struct ListEntry {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // without quotes
  // LastModified as Unix milliseconds (S3 lists it to the millisecond); -1
  // when the listing did not say or said something unreadable.
  std::int64_t last_modified_ms = -1;
};

// One page of ListObjectsV2. When `is_truncated`, pass
// `next_continuation_token` to get the next page.
struct ListPage {
  std::vector<ListEntry> objects;
  bool is_truncated = false;
  std::string next_continuation_token;
};

struct GetOptions {
  std::size_t max_bytes = 0;  // 0: no limit
  std::string if_match;       // an ETag (without quotes); empty: any version
  std::stop_token stop{};     // requested: the transfer is aborted (cancelled)
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Reads the whole object. Fails with object_missing when the bucket or key
  // does not exist; with too_many_bytes when `options.max_bytes` is not 0 and
  // the object is larger (from its Content-Length, or while reading it: what
  // is current may be far larger than the event said); with source_changed
  // when `options.if_match` is set and the object's ETag is another one (a
  // newer version was written; its own event will come).
  virtual Result<Object> get_object(const std::string& bucket, const std::string& key,
                                    const GetOptions& options) = 0;
  Result<Object> get_object(const std::string& bucket, const std::string& key) {
    return get_object(bucket, key, GetOptions{});
  }

  // Stores `request.body` under `key` and returns the new ETag (no quotes).
  // With if_none_match and an existing key, or if_match and another (or no)
  // object: write_conflict, nothing written.
  virtual Result<std::string> put_object(const std::string& bucket, const std::string& key,
                                         const PutRequest& request) = 0;

  // The object's ETag, size, content type and user metadata, without its
  // body. object_missing when it does not exist.
  virtual Result<ObjectInfo> head_object(const std::string& bucket, const std::string& key,
                                         std::stop_token stop = {}) = 0;

  // Removes the object; succeeds too when it did not exist (S3 semantics).
  virtual Status delete_object(const std::string& bucket, const std::string& key,
                               std::stop_token stop = {}) = 0;

  // True when HEAD bucket answers 200, false on 404; other answers are errors.
  // Cheap: used to tell an outage of the whole store from one object failing.
  virtual Result<bool> bucket_exists(const std::string& bucket) = 0;
};

}  // namespace imgpipe::s3
