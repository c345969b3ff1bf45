#include "s3/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/ascii.h"

namespace imgpipe::s3 {
namespace {

constexpr std::string_view kContentSha256 = "x-amz-content-sha256";
// A Content-Length beyond this is not trusted for reserving the body up front.
constexpr std::size_t kMaxBodyReserve = std::size_t{256} << 20;

struct CurlEasyDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init/cleanup are reference counted and thread-safe since 7.84.
class CurlGlobal {
 public:
  CurlGlobal() : init_result_(curl_global_init(CURL_GLOBAL_DEFAULT)) {}
  ~CurlGlobal() {
    if (init_result_ == CURLE_OK) curl_global_cleanup();
  }
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;

 private:
  CURLcode init_result_;
};

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool is_token_char(unsigned char c) {
  return std::isalnum(c) != 0 || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Upload body cursor; seekable because curl rewinds when it retries a request
// on a fresh connection after a reused keep-alive connection turned out dead.
struct UploadCursor {
  std::string_view body;
  std::size_t offset = 0;
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* userdata) {
  auto* cursor = static_cast<UploadCursor*>(userdata);
  const std::size_t n = std::min(size * count, cursor->body.size() - cursor->offset);
  std::memcpy(buffer, cursor->body.data() + cursor->offset, n);
  cursor->offset += n;
  return n;
}

int seek_body(void* userdata, curl_off_t offset, int origin) {
  auto* cursor = static_cast<UploadCursor*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > cursor->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  cursor->offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

struct ResponseSink {
  HttpResponse response;
  bool expects_body = true;
  std::size_t max_body_bytes = 0;  // 0: no limit
  long status = 0;                 // of the current header block
  bool over_limit = false;         // stopped reading: the body is larger than allowed
  std::size_t announced = 0;       // Content-Length, when it was over the limit
};

// The limit applies to what a successful response carries; error documents
// are small and always read.
bool limited(const ResponseSink& sink) {
  return sink.max_body_bytes != 0 && sink.status >= 200 && sink.status < 300;
}

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* userdata) {
  auto* sink = static_cast<ResponseSink*>(userdata);
  if (limited(*sink) && sink->response.body.size() + size * count > sink->max_body_bytes) {
    sink->over_limit = true;
    return 0;  // aborts the transfer
  }
  sink->response.body.append(data, size * count);
  return size * count;
}

// False when the announced length is over the limit (the transfer stops).
bool on_content_length(ResponseSink& sink, std::string_view value) {
  std::size_t length = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
  if (ec != std::errc() || !sink.expects_body) return true;
  if (limited(sink) && length > sink.max_body_bytes) {
    sink.over_limit = true;
    sink.announced = length;
    return false;
  }
  sink.response.body.reserve(std::min(length, kMaxBodyReserve));
  return true;
}

long status_of(std::string_view status_line) {
  const auto space = status_line.find(' ');
  long status = 0;
  if (space != std::string_view::npos) {
    std::from_chars(status_line.data() + space + 1, status_line.data() + status_line.size(),
                    status);
  }
  return status;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userdata) {
  auto* sink = static_cast<ResponseSink*>(userdata);
  const std::string_view line(data, size * count);
  // A new status line starts a new header block (after "100 Continue").
  if (line.starts_with("HTTP/")) {
    sink->response.headers.clear();
    sink->status = status_of(line);
    return line.size();
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  const std::string name = ascii_lower(trim(line.substr(0, colon)));
  const std::string_view value = trim(line.substr(colon + 1));
  if (name == "content-length" && !on_content_length(*sink, value)) return 0;
  auto [it, inserted] = sink->response.headers.try_emplace(name, value);
  if (!inserted) it->second.append(", ").append(value);
  return line.size();
}

// Progress callback: a non-zero return aborts the transfer. libcurl calls it
// about once a second while idle and more often while data moves.
int abort_when_stopped(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::stop_token*>(userdata)->stop_requested() ? 1 : 0;
}

// Whether the URL's path has a "." or ".." segment (keys may contain them).
bool has_dot_segment(std::string_view url) {
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  if (path_start == std::string_view::npos) return false;
  std::string_view path = url.substr(path_start, url.find('?', path_start) - path_start);
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const std::string_view segment = path.substr(0, path.find('/'));
    if (segment == "." || segment == "..") return true;
    path.remove_prefix(segment.size());
  }
  return false;
}

Status validate_header(const std::pair<std::string, std::string>& header) {
  const auto& [name, value] = header;
  const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return is_token_char(static_cast<unsigned char>(c));
  });
  if (!name_ok)
    return make_error(Reason::invalid_request, "invalid HTTP header name '" + name + "'");
  // curl sends an empty header only in its "Name;" form, which 7.88 signs wrongly.
  if (value.empty()) {
    return make_error(Reason::invalid_request, "HTTP header '" + name + "' has an empty value");
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return make_error(Reason::invalid_request, "HTTP header '" + name + "' contains CR, LF or NUL");
  }
  return ok_status();
}

bool has_header(const HeaderList& headers, std::string_view lower_name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return ascii_lower(header.first) == lower_name; });
}

Result<CurlSlist> make_header_list(const HeaderList& headers) {
  CurlSlist list;
  for (const auto& [name, value] : headers) {
    const std::string line = name + ": " + value;
    curl_slist* head = curl_slist_append(list.get(), line.c_str());
    if (head == nullptr) return make_error(Reason::internal, "out of memory building headers");
    if (list == nullptr) list.reset(head);
  }
  return list;
}

// Collects the first failing curl_easy_setopt; options are set unchecked by
// type here, so callers pass long, curl_off_t, pointers and callbacks exactly.
class Options {
 public:
  explicit Options(CURL* handle) : handle_(handle) {}
  template <class T>
  Options& set(CURLoption option, T value) {
    if (result_ == CURLE_OK) result_ = curl_easy_setopt(handle_, option, value);
    return *this;
  }
  CURLcode result() const { return result_; }

 private:
  CURL* handle_;
  CURLcode result_ = CURLE_OK;
};

}  // namespace

class CurlTransport::HandlePool {
 public:
  // Borrowed handle: given back to the pool (reset, connection kept) on scope exit.
  class Lease {
   public:
    Lease(HandlePool& pool, CurlEasy handle) : pool_(pool), handle_(std::move(handle)) {}
    ~Lease() { pool_.release(std::move(handle_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    CURL* get() const { return handle_.get(); }

   private:
    HandlePool& pool_;
    CurlEasy handle_;
  };

  // Room for every idle handle up front: release() runs in ~Lease and must
  // not allocate (a destructor that throws ends the process).
  explicit HandlePool(std::size_t max_idle) : max_idle_(max_idle) { idle_.reserve(max_idle_); }

  Lease acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        CurlEasy handle = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(handle));
      }
    }
    return Lease(*this, CurlEasy(curl_easy_init()));
  }

 private:
  void release(CurlEasy handle) {
    if (handle == nullptr) return;
    // Drops pointers into the finished request's stack frame; keeps connections.
    curl_easy_reset(handle.get());
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(handle));
  }

  CurlGlobal global_;  // declared first: outlives every pooled handle
  std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<CurlEasy> idle_;
};

CurlTransport::CurlTransport(TransportOptions options)
    : options_(std::move(options)),
      pool_(std::make_unique<HandlePool>(options_.max_idle_handles)) {}

CurlTransport::~CurlTransport() = default;

Result<HttpResponse> CurlTransport::perform(const HttpRequest& request) {
  const bool sign = !options_.access_key.empty();
  HeaderList headers = request.headers;
  // curl 7.88 neither sends this header nor hashes a streamed body; without it
  // the server would expect the body to hash to sha256("").
  if (sign && !has_header(headers, kContentSha256)) {
    headers.emplace_back(kContentSha256, "UNSIGNED-PAYLOAD");
  }
  for (const auto& header : headers) {
    if (auto valid = validate_header(header); !valid) return valid.error();
  }
  if (sign && !curl_sigv4_header_order_is_safe(headers)) {
    return make_error(Reason::invalid_request,
                      "header names where one is a prefix of another (e.g. x-amz-meta-a and "
                      "x-amz-meta-a-b) cannot be signed by libcurl 7.88");
  }
  auto header_list = make_header_list(headers);
  if (!header_list) return header_list.error();

  auto lease = pool_->acquire();
  CURL* handle = lease.get();
  if (handle == nullptr) return make_error(Reason::internal, "curl_easy_init failed");

  UploadCursor upload{request.body};
  ResponseSink sink;
  sink.expects_body = request.method != "HEAD";
  sink.max_body_bytes = request.max_body_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const std::string sigv4 = "aws:amz:" + options_.region + ":s3";

  Options opts(handle);
  opts.set(CURLOPT_URL, request.url.c_str())
      .set(CURLOPT_PROTOCOLS_STR, "http,https")
      .set(CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1})
      .set(CURLOPT_NOSIGNAL, 1L)
      .set(CURLOPT_TCP_KEEPALIVE, 1L)
      .set(CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms)
      .set(CURLOPT_TIMEOUT_MS, options_.request_timeout_ms)
      .set(CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_limit_bytes)
      .set(CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s)
      .set(CURLOPT_ERRORBUFFER, static_cast<char*>(error_buffer))
      .set(CURLOPT_HTTPHEADER, header_list->get())
      .set(CURLOPT_WRITEFUNCTION, &write_body)
      .set(CURLOPT_WRITEDATA, static_cast<void*>(&sink))
      .set(CURLOPT_HEADERFUNCTION, &on_header)
      .set(CURLOPT_HEADERDATA, static_cast<void*>(&sink));
  // libcurl removes "." and ".." segments unless told not to, which would
  // address another key. curl 8.x refuses to sign a path sent as it is (below).
  const bool dot_segments = has_dot_segment(request.url);
  if (dot_segments) opts.set(CURLOPT_PATH_AS_IS, 1L);
  if (request.stop.stop_possible()) {
    opts.set(CURLOPT_NOPROGRESS, 0L)
        .set(CURLOPT_XFERINFOFUNCTION, &abort_when_stopped)
        .set(CURLOPT_XFERINFODATA, const_cast<void*>(static_cast<const void*>(&request.stop)));
  }
  if (!options_.ca_file.empty()) opts.set(CURLOPT_CAINFO, options_.ca_file.c_str());
  if (options_.insecure_skip_tls_verify) {
    opts.set(CURLOPT_SSL_VERIFYPEER, 0L).set(CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (sign) {
    opts.set(CURLOPT_AWS_SIGV4, sigv4.c_str())
        .set(CURLOPT_USERNAME, options_.access_key.c_str())
        .set(CURLOPT_PASSWORD, options_.secret_key.c_str());
  }
  if (request.method == "HEAD") {
    opts.set(CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    opts.set(CURLOPT_HTTPGET, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    // Upload mode for both, so a body of any size streams from the view.
    opts.set(CURLOPT_UPLOAD, 1L)
        .set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()))
        .set(CURLOPT_READFUNCTION, &read_body)
        .set(CURLOPT_READDATA, static_cast<void*>(&upload))
        .set(CURLOPT_SEEKFUNCTION, &seek_body)
        .set(CURLOPT_SEEKDATA, static_cast<void*>(&upload))
        .set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    opts.set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (opts.result() != CURLE_OK) {
    return make_error(Reason::internal,
                      std::string("curl_easy_setopt failed: ") + curl_easy_strerror(opts.result()));
  }

  if (request.stop.stop_requested()) {
    return make_error(Reason::cancelled,
                      "shutdown: " + request.method + " " + request.url + " not sent");
  }
  const CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_ABORTED_BY_CALLBACK && request.stop.stop_requested()) {
    return make_error(Reason::cancelled, "shutdown aborted " + request.method + " " + request.url);
  }
  if (sink.over_limit) {
    const std::string size =
        sink.announced != 0 ? std::to_string(sink.announced) + " bytes" : "more than that";
    return make_error(Reason::too_many_bytes, "the object has " + size + ", over the limit of " +
                                                  std::to_string(request.max_body_bytes) +
                                                  " bytes (" + request.method + " " + request.url +
                                                  ")");
  }
  if (code == CURLE_BAD_FUNCTION_ARGUMENT && dot_segments && sign) {
    return make_error(Reason::invalid_request,
                      "this libcurl cannot sign a key with \".\" or \"..\" path segments (" +
                          request.method + " " + request.url + ")");
  }
  if (code != CURLE_OK) {
    std::string message = std::string("curl: ") + curl_easy_strerror(code);
    if (error_buffer[0] != '\0') message += std::string(": ") + error_buffer;
    message += " (" + request.method + " " + request.url + ")";
    return make_error(reason_for_curl_code(code), std::move(message));
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &sink.response.status);
  return std::move(sink.response);
}

bool curl_sigv4_header_order_is_safe(const HeaderList& headers) {
  std::vector<std::pair<std::string, std::string>> lines;  // (name, "name:value")
  lines.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    const std::string lower = ascii_lower(name);
    lines.emplace_back(lower, lower + ":" + std::string(trim(value)));
  }
  auto by_line = lines;
  std::sort(by_line.begin(), by_line.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return std::equal(lines.begin(), lines.end(), by_line.begin(), by_line.end(),
                    [](const auto& a, const auto& b) { return a.first == b.first; });
}

Reason reason_for_curl_code(int code) {
  switch (static_cast<CURLcode>(code)) {
    case CURLE_OPERATION_TIMEDOUT: return Reason::timeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_CONTENT_ENCODING: return Reason::invalid_request;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_READ_ERROR:
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK: return Reason::internal;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: return Reason::tls_failed;
    default:
      // Resolve, connect, send, receive, rewind and protocol errors: the
      // server or the network, which may recover.
      return Reason::unavailable;
  }
}

}  // namespace imgpipe::s3
