// HttpTransport: the seam between the S3 client and the network. The client
// builds complete requests (URL with sorted query, headers, body); a
// transport sends them, signs them where it holds credentials, and returns
// whatever status the server answered. Tests implement it to record requests
// and to script responses and failures.
//
// Thread-safety: implementations must allow concurrent perform() calls.
#pragma once

#include <map>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace imgpipe::s3 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // absolute; path and query already percent-encoded
  HeaderList headers;
  std::string_view body;  // must stay valid until perform() returns
  // When not 0, a successful response with a larger body is not read: from
  // its Content-Length, or as soon as more arrived. perform() then fails with
  // too_many_bytes.
  std::size_t max_body_bytes = 0;
  // When requested (shutdown), a transfer under way is aborted within a
  // fraction of a second and perform() fails with cancelled.
  std::stop_token stop{};
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends `request` and returns the server's response, whatever its status.
  // Fails only when no response arrived: unavailable (resolve, connect, send
  // or receive failed), timeout, invalid_request (the request cannot be
  // sent as given), too_many_bytes (see max_body_bytes) or cancelled (stop).
  virtual Result<HttpResponse> perform(const HttpRequest& request) = 0;
};

}  // namespace imgpipe::s3
