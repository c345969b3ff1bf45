// CurlTransport: HttpTransport over libcurl, signing every request with AWS
// Signature V4 (CURLOPT_AWS_SIGV4, service "s3") when credentials are set.
//
// Connections are reused: each perform() borrows an easy handle from a pool
// and returns it afterwards, so a thread doing request after request keeps
// its keep-alive connection. Request bodies are streamed from the caller's
// string_view without a copy; payloads are sent as UNSIGNED-PAYLOAD.
//
// Thread-safety: perform() may be called from many threads at once; the pool
// is the only shared state and is guarded by a mutex.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "s3/http.h"

namespace imgpipe::s3 {

struct TransportOptions {
  std::string region = "us-east-1";
  std::string access_key;  // empty: requests are sent unsigned
  std::string secret_key;
  long connect_timeout_ms = 3000;
  long request_timeout_ms = 60000;  // whole request, body included
  // A transfer slower than this many bytes/s for low_speed_time_s is aborted
  // as a timeout, long before request_timeout_ms on a stalled connection.
  long low_speed_limit_bytes = 1024;
  long low_speed_time_s = 15;
  std::size_t max_idle_handles = 64;  // pooled handles beyond this are closed
  // HTTPS: the server's certificate must chain to a CA in this PEM file (empty:
  // the system's CAs) and name the endpoint's host. Never falls back to plain
  // HTTP: a failed handshake or verification is tls_failed.
  std::string ca_file;
  bool insecure_skip_tls_verify = false;  // no certificate or host check (testing only)
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // See HttpTransport::perform. Also fails with invalid_request for headers
  // that libcurl 7.88 would sign incorrectly (empty values, CR/LF, names
  // ordered differently by name than by "name:value"), rather than letting
  // the server answer SignatureDoesNotMatch.
  Result<HttpResponse> perform(const HttpRequest& request) override;

 private:
  class HandlePool;
  TransportOptions options_;
  std::unique_ptr<HandlePool> pool_;
};

// True when sorting `headers` by "lower-case-name:value" (what libcurl 7.88
// signs) gives the same order as sorting by lower-case name (what SigV4 and
// servers use). False e.g. for x-amz-meta-a together with x-amz-meta-a-b.
bool curl_sigv4_header_order_is_safe(const HeaderList& headers);

// Maps a CURLcode (as int, to keep curl.h out of this header) to a Reason.
Reason reason_for_curl_code(int code);

}  // namespace imgpipe::s3
