#include "s3/curl_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <string>
#include <thread>

#include "common/ascii.h"

namespace imgpipe::s3 {
namespace {

// Owns a socket descriptor.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// A loopback socket bound to an ephemeral port; listening if asked.
Socket bound_socket(bool listening, int& port) {
  Socket socket(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  socklen_t length = sizeof(address);
  EXPECT_EQ(::bind(socket.get(), generic, length), 0);
  EXPECT_EQ(::getsockname(socket.get(), generic, &length), 0);
  port = ntohs(address.sin_port);
  if (listening) {
    EXPECT_EQ(::listen(socket.get(), 4), 0);
  }
  return socket;
}

std::size_t content_length(const std::string& head) {
  const std::string lowered = ascii_lower(head);
  const std::size_t at = lowered.find("\r\ncontent-length:");
  return at == std::string::npos ? 0 : std::stoul(head.substr(at + 17));
}

// Serves exactly one HTTP request on 127.0.0.1: records it and answers with
// `reply`, or with nothing (holding the connection open) when `reply` is empty.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply)
      : listener_(bound_socket(true, port_)),
        request_(std::async(std::launch::async,
                            [this, reply = std::move(reply)] { return serve(reply); })) {}

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::string request() { return request_.get(); }

 private:
  static bool readable(int fd) {
    pollfd poll_fd{fd, POLLIN, 0};
    return ::poll(&poll_fd, 1, 5000) == 1;
  }

  std::string serve(const std::string& reply) const {
    if (!readable(listener_.get())) return "no connection";
    Socket connection(::accept(listener_.get(), nullptr, nullptr));
    std::string received;
    char buffer[4096];
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos ||
           received.size() < header_end + 4 + content_length(received.substr(0, header_end + 2))) {
      if (!readable(connection.get())) break;
      const ssize_t n = ::recv(connection.get(), buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      received.append(buffer, static_cast<std::size_t>(n));
      header_end = received.find("\r\n\r\n");
    }
    if (reply.empty()) {
      readable(connection.get());  // hold the connection until the client gives up
    } else {
      EXPECT_EQ(::send(connection.get(), reply.data(), reply.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(reply.size()));
    }
    return received;
  }

  int port_ = 0;
  Socket listener_;
  std::future<std::string> request_;
};

TransportOptions signed_options() {
  TransportOptions options;
  options.region = "eu-central-1";
  options.access_key = "AKIDEXAMPLE";
  options.secret_key = "secret";
  options.connect_timeout_ms = 1000;
  options.request_timeout_ms = 5000;
  return options;
}

TEST(CurlTransport, put_streams_the_body_and_is_signed_with_an_unsigned_payload) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nX-Amz-Meta-Camera: X100\r\nContent-Length: 2\r\n\r\nok");
  CurlTransport transport(signed_options());
  auto response = transport.perform(
      {"PUT", server.url("/raw/a%20b.jpg"), {{"Content-Type", "image/jpeg"}}, "hello"});
  ASSERT_TRUE(response) << response.error().message;
  const std::string request = server.request();
  EXPECT_TRUE(request.starts_with("PUT /raw/a%20b.jpg HTTP/1.1\r\n")) << request;
  EXPECT_NE(request.find("\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"), std::string::npos);
  EXPECT_NE(request.find("Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            std::string::npos);
  EXPECT_NE(request.find("/eu-central-1/s3/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, "),
            std::string::npos)
      << request;
  EXPECT_NE(request.find("\r\nContent-Length: 5\r\n"), std::string::npos);
  EXPECT_TRUE(request.ends_with("\r\n\r\nhello"));

  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers.at("etag"), "\"abc\"");
  EXPECT_EQ(response->headers.at("x-amz-meta-camera"), "X100");
  EXPECT_EQ(response->body, "ok");
}

TEST(CurlTransport, post_sends_its_body_with_the_post_method) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  CurlTransport transport(signed_options());
  auto response = transport.perform({"POST", server.url("/b/k?uploads="), {}, "<x/>"});
  ASSERT_TRUE(response) << response.error().message;
  const std::string request = server.request();
  EXPECT_TRUE(request.starts_with("POST /b/k?uploads= HTTP/1.1\r\n")) << request;
  EXPECT_TRUE(request.ends_with("\r\n\r\n<x/>"));
}

// curl 7.88 (Debian 12) signs such a path as it is; curl 8.14 (Debian 13)
// refuses to: either way the request never goes to another key.
TEST(CurlTransport, dot_segments_in_keys_are_sent_as_they_are_or_refused) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  CurlTransport transport(signed_options());
  auto response = transport.perform({"GET", server.url("/b/../x/./y"), {}, {}});
  if (response) {
    EXPECT_TRUE(server.request().starts_with("GET /b/../x/./y HTTP/1.1\r\n"));
  } else {
    EXPECT_EQ(response.error().reason, Reason::invalid_request) << response.error().message;
    EXPECT_NE(response.error().message.find("path segments"), std::string::npos);
  }
}

TEST(CurlTransport, dot_segments_of_unsigned_requests_are_sent_as_they_are) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  CurlTransport transport(TransportOptions{});
  ASSERT_TRUE(transport.perform({"GET", server.url("/b/../x/./y"), {}, {}}));
  EXPECT_TRUE(server.request().starts_with("GET /b/../x/./y HTTP/1.1\r\n"));
}

TEST(CurlTransport, dots_inside_names_are_not_dot_segments) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  CurlTransport transport(signed_options());
  ASSERT_TRUE(transport.perform({"GET", server.url("/b/..x/a.b/.y"), {}, {}}));
  EXPECT_TRUE(server.request().starts_with("GET /b/..x/a.b/.y HTTP/1.1\r\n"));
}

TEST(CurlTransport, head_returns_headers_and_status_without_a_body) {
  OneShotServer server(
      "HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\nX-Amz-Request-Id: 1\r\n\r\n");
  CurlTransport transport(signed_options());
  auto response = transport.perform({"HEAD", server.url("/b/k"), {}, {}});
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_TRUE(server.request().starts_with("HEAD /b/k HTTP/1.1\r\n"));
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->headers.at("content-length"), "7");
  EXPECT_TRUE(response->body.empty());
}

TEST(CurlTransport, requests_without_credentials_are_not_signed) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  CurlTransport transport(TransportOptions{});
  ASSERT_TRUE(transport.perform({"GET", server.url("/b/k"), {}, {}}));
  const std::string request = server.request();
  EXPECT_EQ(request.find("Authorization:"), std::string::npos);
  EXPECT_EQ(request.find("x-amz-content-sha256"), std::string::npos);
}

TEST(CurlTransport, refused_connection_is_unavailable) {
  int port = 0;
  const Socket not_listening = bound_socket(false, port);
  CurlTransport transport(signed_options());
  auto response =
      transport.perform({"GET", "http://127.0.0.1:" + std::to_string(port) + "/b/k", {}, {}});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason, Reason::unavailable);
  EXPECT_NE(response.error().message.find("GET http://127.0.0.1:"), std::string::npos);
}

// An https:// endpoint that answers in plain text is refused, never read as
// plain HTTP.
TEST(CurlTransport, https_to_a_plain_text_server_is_tls_failed) {
  int port = 0;
  const Socket listener = bound_socket(true, port);
  auto served = std::async(std::launch::async, [&] {
    Socket connection(::accept(listener.get(), nullptr, nullptr));
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    ::send(connection.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
    char buffer[4096];
    while (::recv(connection.get(), buffer, sizeof(buffer), 0) > 0) {
    }
  });
  CurlTransport transport(signed_options());
  auto response =
      transport.perform({"GET", "https://127.0.0.1:" + std::to_string(port) + "/b/k", {}, {}});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason, Reason::tls_failed) << response.error().message;
}

HttpRequest capped_get(const std::string& url, std::size_t max_bytes) {
  return HttpRequest{"GET", url, {}, {}, max_bytes};
}

TEST(CurlTransport, a_body_announced_over_the_limit_is_not_read) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x'));
  CurlTransport transport(signed_options());
  auto response = transport.perform(capped_get(server.url("/b/k"), 1000));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason, Reason::too_many_bytes);
  EXPECT_NE(response.error().message.find("5000 bytes"), std::string::npos)
      << response.error().message;
}

TEST(CurlTransport, a_body_without_a_length_stops_once_it_passes_the_limit) {
  std::string chunks = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 10; ++i) chunks += "3e8\r\n" + std::string(1000, 'x') + "\r\n";
  OneShotServer server(chunks + "0\r\n\r\n");
  CurlTransport transport(signed_options());
  auto response = transport.perform(capped_get(server.url("/b/k"), 2500));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason, Reason::too_many_bytes) << response.error().message;
}

TEST(CurlTransport, a_body_within_the_limit_and_error_documents_are_read) {
  OneShotServer ok("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'x'));
  CurlTransport transport(signed_options());
  auto response = transport.perform(capped_get(ok.url("/b/k"), 1000));
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->body.size(), 1000U);

  const std::string error_xml =
      "<Error><Code>NoSuchKey</Code>" + std::string(200, ' ') + "</Error>";
  OneShotServer missing("HTTP/1.1 404 Not Found\r\nContent-Length: " +
                        std::to_string(error_xml.size()) + "\r\n\r\n" + error_xml);
  auto not_found = transport.perform(capped_get(missing.url("/b/k"), 10));
  ASSERT_TRUE(not_found) << not_found.error().message;
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(not_found->body, error_xml);
}

// Regression test for a SIGTERM that took 24 s: a request to a stalled
// server ran until curl's own limits, whatever the shutdown grace.
TEST(CurlTransport, a_stop_aborts_a_request_under_way_as_cancelled) {
  OneShotServer server("");  // accepts, never answers
  TransportOptions options = signed_options();
  options.request_timeout_ms = 60000;
  CurlTransport transport(options);
  std::stop_source stop;
  auto stopper = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  HttpRequest request{"GET", server.url("/b/k"), {}, {}};
  request.stop = stop.get_token();
  const auto start = std::chrono::steady_clock::now();
  auto response = transport.perform(request);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason, Reason::cancelled) << response.error().message;
  EXPECT_LT(took, std::chrono::seconds(10)) << "aborted, not run into the 60 s timeout";
}

TEST(CurlTransport, a_request_is_not_sent_once_stop_was_requested) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  CurlTransport transport(signed_options());
  std::stop_source stop;
  stop.request_stop();
  HttpRequest request{"GET", server.url("/b/k"), {}, {}};
  request.stop = stop.get_token();
  auto response = transport.perform(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason, Reason::cancelled);
}

TEST(CurlTransport, server_that_never_answers_is_a_timeout) {
  OneShotServer server("");
  TransportOptions options = signed_options();
  options.request_timeout_ms = 300;
  CurlTransport transport(options);
  auto response = transport.perform({"GET", server.url("/b/k"), {}, {}});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason, Reason::timeout);
}

TEST(CurlTransport, headers_curl_would_send_or_sign_wrongly_are_rejected_before_sending) {
  CurlTransport transport(signed_options());
  const std::string url = "http://127.0.0.1:1/b/k";
  for (const HeaderList& headers :
       {HeaderList{{"x-amz-meta-a", ""}}, HeaderList{{"x-amz-meta-a", "1\r\nX: y"}},
        HeaderList{{"bad name", "1"}},
        HeaderList{{"x-amz-meta-a", "1"}, {"x-amz-meta-a-b", "2"}}}) {
    auto response = transport.perform({"PUT", url, headers, {}});
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().reason, Reason::invalid_request) << response.error().message;
  }
}

TEST(CurlSigv4HeaderOrder, names_that_are_not_prefixes_of_each_other_are_safe) {
  EXPECT_TRUE(curl_sigv4_header_order_is_safe({{"x-amz-meta-rule", "b"},
                                               {"Content-Type", "a"},
                                               {"x-amz-meta-source-etag", "c"},
                                               {"If-None-Match", "*"}}));
  EXPECT_TRUE(curl_sigv4_header_order_is_safe({{"x-amz-meta-a", "1"}, {"x-amz-meta-ab", "2"}}));
}

TEST(CurlSigv4HeaderOrder, name_followed_by_a_character_below_colon_is_unsafe) {
  EXPECT_FALSE(curl_sigv4_header_order_is_safe({{"x-amz-meta-a", "1"}, {"x-amz-meta-a-b", "2"}}));
  EXPECT_FALSE(curl_sigv4_header_order_is_safe({{"X-Amz-Meta-V", "1"}, {"x-amz-meta-v2", "2"}}));
}

TEST(ReasonForCurlCode, timeouts_are_timeout_and_network_failures_unavailable) {
  EXPECT_EQ(reason_for_curl_code(28), Reason::timeout);         // CURLE_OPERATION_TIMEDOUT
  EXPECT_EQ(reason_for_curl_code(7), Reason::unavailable);      // CURLE_COULDNT_CONNECT
  EXPECT_EQ(reason_for_curl_code(6), Reason::unavailable);      // CURLE_COULDNT_RESOLVE_HOST
  EXPECT_EQ(reason_for_curl_code(56), Reason::unavailable);     // CURLE_RECV_ERROR
  EXPECT_EQ(reason_for_curl_code(3), Reason::invalid_request);  // CURLE_URL_MALFORMAT
}

TEST(ReasonForCurlCode, certificate_and_handshake_failures_are_tls_failed) {
  EXPECT_EQ(reason_for_curl_code(60), Reason::tls_failed);  // CURLE_PEER_FAILED_VERIFICATION
  EXPECT_EQ(reason_for_curl_code(35), Reason::tls_failed);  // CURLE_SSL_CONNECT_ERROR
  EXPECT_EQ(reason_for_curl_code(77), Reason::tls_failed);  // CURLE_SSL_CACERT_BADFILE
  EXPECT_EQ(reason_for_curl_code(58), Reason::tls_failed);  // CURLE_SSL_CERTPROBLEM
}

}  // namespace
}  // namespace imgpipe::s3
