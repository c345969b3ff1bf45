// FakeTransport: an HttpTransport for tests that records every request and
// answers from a scripted queue (an empty queue answers 200 with no body).
//
// Thread-safety: perform() and the accessors lock one mutex.
#pragma once

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"
#include "s3/http.h"

namespace imgpipe::s3::testing {

struct RecordedRequest {
  std::string method;
  std::string url;
  HeaderList headers;
  std::string body;

  // The value of the header `name` (compared case-insensitively), or "" when absent.
  std::string header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (ascii_iequals(key, name)) return value;
    }
    return "";
  }
  bool has_header(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return ascii_iequals(h.first, name); });
  }
};

inline HttpResponse response(long status, std::string body = "",
                             std::map<std::string, std::string> headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

inline std::string s3_error(std::string_view code, std::string_view message = "failed") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
         "</Code><Message>" + std::string(message) + "</Message><RequestId>1</RequestId></Error>";
}

class FakeTransport final : public HttpTransport {
 public:
  Result<HttpResponse> perform(const HttpRequest& request) override {
    std::lock_guard lock(mutex_);
    requests_.push_back({request.method, request.url, request.headers, std::string(request.body)});
    if (answers_.empty()) return response(200);
    Result<HttpResponse> answer = std::move(answers_.front());
    answers_.pop_front();
    return answer;
  }

  // Queues the answer to the next unanswered request.
  void then(Result<HttpResponse> answer) {
    std::lock_guard lock(mutex_);
    answers_.push_back(std::move(answer));
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<Result<HttpResponse>> answers_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace imgpipe::s3::testing
