// s3::Client: an S3 client (MinIO and AWS) over an HttpTransport. It builds
// requests (path-style or virtual-host URLs, RFC 3986-encoded keys, sorted
// query strings), turns S3 XML errors into Errors with a Reason, and offers
// the object, bucket and notification calls imgpipe needs. list_objects
// serves `imgpipe backfill` (and tests); put_object_multipart serves only
// tests/integration (uploading large sources).
//
// Every call is one or more blocking HTTP requests with the transport's
// timeouts; the client never retries (the pipeline decides that). ETags are
// returned without quotes.
//
// Thread-safety: all methods may be called concurrently on one Client; it
// holds only immutable options and a thread-safe transport.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "s3/curl_transport.h"
#include "s3/http.h"
#include "s3/object_store.h"
#include "s3/request.h"

namespace imgpipe::s3 {

struct ClientOptions {
  std::string endpoint = "http://127.0.0.1:9000";  // http(s)://host[:port][/base-path]
  std::string region = "us-east-1";
  std::string access_key;  // empty: anonymous, unsigned requests
  std::string secret_key;
  bool path_style = true;  // false: virtual-host style, bucket.host
  long connect_timeout_ms = 3000;
  long request_timeout_ms = 60000;
  std::string ca_file;                    // see TransportOptions
  bool insecure_skip_tls_verify = false;  // see TransportOptions
};

// The transport settings a Client (or MinioAdmin) builds its CurlTransport from.
TransportOptions transport_options(const ClientOptions& options);

// Checks what the Client would otherwise reject on every call (the endpoint).
// Fails with invalid_config.
Status validate(const ClientOptions& options);

class Client final : public ObjectStore {
 public:
  // A null transport means a CurlTransport built from `options`.
  explicit Client(ClientOptions options, std::shared_ptr<HttpTransport> transport = nullptr);

  using ObjectStore::get_object;
  Result<Object> get_object(const std::string& bucket, const std::string& key,
                            const GetOptions& options) override;
  Result<std::string> put_object(const std::string& bucket, const std::string& key,
                                 const PutRequest& request) override;
  Result<ObjectInfo> head_object(const std::string& bucket, const std::string& key,
                                 std::stop_token stop = {}) override;
  Status delete_object(const std::string& bucket, const std::string& key,
                       std::stop_token stop = {}) override;

  // Creates `bucket`. Succeeds too when it already exists and is ours
  // (BucketAlreadyOwnedByYou, or BucketAlreadyExists while HEAD bucket works).
  Status create_bucket(const std::string& bucket);

  Result<bool> bucket_exists(const std::string& bucket) override;

  // Replaces the bucket's notification configuration with `xml`
  // (a <NotificationConfiguration> document).
  Status put_bucket_notification(const std::string& bucket, std::string_view xml);

  // The bucket's notification configuration document as S3 returns it.
  Result<std::string> get_bucket_notification(const std::string& bucket);

  // One page of ListObjectsV2 under `prefix`, starting at
  // `continuation_token` (empty: the first page). max_keys 0 means the
  // server's default (1000).
  Result<ListPage> list_objects(const std::string& bucket, const std::string& prefix,
                                const std::string& continuation_token, int max_keys = 0);

  // Only tests/integration uses this. Uploads `request.body` in parts of `part_size` bytes (>=
  // kMinPartSize, at most kMaxParts parts), one after the other, and returns the ETag of the
  // completed object. On any failure after the upload was created it aborts
  // the upload (best effort) and returns the original error.
  // if_none_match is applied when completing the upload.
  Result<std::string> put_object_multipart(const std::string& bucket, const std::string& key,
                                           const PutRequest& request, std::size_t part_size);

 private:
  struct Call {
    std::string method;
    std::string_view bucket;
    std::string_view key;
    QueryParams query;
    HeaderList headers;
    std::string_view body;
    std::size_t max_body_bytes = 0;  // 0: no limit
    std::stop_token stop{};
  };

  // Sends the call and returns the response whatever its status; fails when
  // the URL cannot be built or no response arrived.
  Result<HttpResponse> send(const Call& call) const;
  // Like send, but a non-2xx status becomes the S3 error.
  Result<HttpResponse> send_ok(const Call& call) const;

  Result<std::string> create_multipart_upload(const std::string& bucket, const std::string& key,
                                              const PutRequest& request) const;
  Result<std::string> upload_part(const std::string& bucket, const std::string& key,
                                  const std::string& upload_id, std::size_t part_number,
                                  std::string_view part) const;
  Result<std::string> complete_multipart_upload(const std::string& bucket, const std::string& key,
                                                const std::string& upload_id,
                                                const std::vector<std::string>& part_etags,
                                                bool if_none_match) const;
  void abort_multipart_upload(const std::string& bucket, const std::string& key,
                              const std::string& upload_id) const;

  ClientOptions options_;
  std::shared_ptr<HttpTransport> transport_;
};

}  // namespace imgpipe::s3
