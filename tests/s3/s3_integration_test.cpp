// Runs every request shape of s3::Client against a real S3 server (the local
// MinIO of the stack). Needs IMGPIPE_S3_ENDPOINT, IMGPIPE_S3_ACCESS_KEY and
// IMGPIPE_S3_SECRET_KEY (IMGPIPE_S3_REGION defaults to us-east-1); without
// them every test fails, because integration tests always run with the stack.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "s3/client.h"

namespace imgpipe::s3 {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

ClientOptions stack_options() {
  ClientOptions options;
  options.endpoint = env("IMGPIPE_S3_ENDPOINT");
  options.access_key = env("IMGPIPE_S3_ACCESS_KEY");
  options.secret_key = env("IMGPIPE_S3_SECRET_KEY");
  if (const std::string region = env("IMGPIPE_S3_REGION"); !region.empty()) options.region = region;
  options.request_timeout_ms = 30000;
  return options;
}

std::string unique_bucket_name() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::random_device random;
  return "imgpipe-s3-it-" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) + "-" +
         std::to_string(::getpid()) + "-" + std::to_string(random() % 100000);
}

// Bytes that differ from position to position, so misplaced parts show up.
std::string patterned_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  std::uint32_t state = 2463534242U;
  for (char& byte : bytes) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    byte = static_cast<char>(state);
  }
  return bytes;
}

class S3Integration : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(options_.endpoint.empty()) << "IMGPIPE_S3_ENDPOINT is not set";
    ASSERT_FALSE(options_.access_key.empty()) << "IMGPIPE_S3_ACCESS_KEY is not set";
    ASSERT_FALSE(options_.secret_key.empty()) << "IMGPIPE_S3_SECRET_KEY is not set";
    auto created = client_.create_bucket(bucket_);
    ASSERT_TRUE(created) << created.error().message;
  }

  void put(const std::string& key, std::string_view body) {
    PutRequest request;
    request.body = body;
    auto etag = client_.put_object(bucket_, key, request);
    ASSERT_TRUE(etag) << key << ": " << etag.error().message;
  }

  ClientOptions options_ = stack_options();
  Client client_{options_};
  std::string bucket_ = unique_bucket_name();
};

TEST_F(S3Integration, creating_a_bucket_twice_succeeds_and_it_exists) {
  auto again = client_.create_bucket(bucket_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(client_.bucket_exists(bucket_).value(), true);
  EXPECT_EQ(client_.bucket_exists(bucket_ + "-absent").value(), false);
}

TEST_F(S3Integration, object_put_with_metadata_is_read_back_by_get) {
  PutRequest request;
  request.content_type = "image/jpeg";
  request.metadata = {{"source-etag", "abc123"}, {"Rule", "thumb 256"}};
  request.body = "not really a jpeg";
  auto etag = client_.put_object(bucket_, "in/a.jpg", request);
  ASSERT_TRUE(etag) << etag.error().message;
  EXPECT_EQ(etag->size(), 32U) << *etag;  // MD5 hex, quotes stripped

  auto object = client_.get_object(bucket_, "in/a.jpg");
  ASSERT_TRUE(object) << object.error().message;
  EXPECT_EQ(object->body, request.body);
  EXPECT_EQ(object->info.etag, *etag);
  EXPECT_EQ(object->info.size, request.body.size());
  EXPECT_EQ(object->info.content_type, "image/jpeg");
  EXPECT_EQ(object->info.metadata.at("source-etag"), "abc123");
  EXPECT_EQ(object->info.metadata.at("rule"), "thumb 256");
}

TEST_F(S3Integration, empty_and_multi_megabyte_bodies_round_trip_with_single_puts) {
  const std::string large =
      patterned_bytes(3 * kMiB + 17);  // above curl's Expect: 100-continue size
  put("empty", "");
  put("large.bin", large);
  EXPECT_EQ(client_.get_object(bucket_, "empty").value().body, "");
  EXPECT_EQ(client_.get_object(bucket_, "empty").value().info.size, 0U);
  EXPECT_TRUE(client_.get_object(bucket_, "large.bin").value().body == large);
}

// The worker reads the version its event names: a GET pinned to an older
// ETag is refused by the real server (412), a GET pinned to the current one
// and a capped GET within the limit succeed, a capped GET over it does not.
TEST_F(S3Integration, get_pinned_to_an_etag_and_capped_in_size) {
  put("pinned.bin", "version one");
  const std::string first = client_.get_object(bucket_, "pinned.bin").value().info.etag;
  put("pinned.bin", "version two, longer");
  const std::string second = client_.get_object(bucket_, "pinned.bin").value().info.etag;
  ASSERT_NE(first, second);

  auto stale = client_.get_object(bucket_, "pinned.bin", GetOptions{0, first});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().reason, Reason::source_changed) << stale.error().message;
  auto current = client_.get_object(bucket_, "pinned.bin", GetOptions{0, second});
  ASSERT_TRUE(current) << current.error().message;
  EXPECT_EQ(current->body, "version two, longer");

  EXPECT_TRUE(client_.get_object(bucket_, "pinned.bin", GetOptions{19, ""}));
  auto capped = client_.get_object(bucket_, "pinned.bin", GetOptions{18, ""});
  ASSERT_FALSE(capped);
  EXPECT_EQ(capped.error().reason, Reason::too_many_bytes) << capped.error().message;
}

TEST_F(S3Integration, if_none_match_creates_a_new_key_but_fails_on_an_existing_one) {
  PutRequest request;
  request.body = "first";
  request.if_none_match = true;
  auto first = client_.put_object(bucket_, "out/once.webp", request);
  ASSERT_TRUE(first) << first.error().message;
  request.body = "second";
  auto second = client_.put_object(bucket_, "out/once.webp", request);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().reason, Reason::write_conflict);
  EXPECT_TRUE(second.error().message.starts_with("S3 PreconditionFailed:"))
      << second.error().message;
  EXPECT_EQ(client_.get_object(bucket_, "out/once.webp").value().body, "first");
}

// The conditional write the pipeline relies on against zombie workers.
TEST_F(S3Integration, if_match_writes_only_over_exactly_the_object_that_was_read) {
  PutRequest request;
  request.body = "v1";
  auto v1 = client_.put_object(bucket_, "out/cas.webp", request);
  ASSERT_TRUE(v1) << v1.error().message;
  request.body = "v2";
  request.if_match = v1.value();
  auto v2 = client_.put_object(bucket_, "out/cas.webp", request);
  ASSERT_TRUE(v2) << v2.error().message;

  request.body = "stale";
  request.if_match = v1.value();  // overwritten since
  auto stale = client_.put_object(bucket_, "out/cas.webp", request);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().reason, Reason::write_conflict) << stale.error().message;
  EXPECT_EQ(client_.get_object(bucket_, "out/cas.webp").value().body, "v2");

  auto absent = client_.put_object(bucket_, "out/never-written.webp", request);
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().reason, Reason::write_conflict) << absent.error().message;
  EXPECT_EQ(client_.head_object(bucket_, "out/never-written.webp").error().reason,
            Reason::object_missing);
}

TEST_F(S3Integration, head_reads_metadata_without_the_body_and_delete_removes) {
  PutRequest request;
  request.body = "twelve bytes";
  request.metadata = {{"imgpipe-source-key", "raw/a%20b.jpg"}};
  auto etag = client_.put_object(bucket_, "out/headed.jpg", request);
  ASSERT_TRUE(etag) << etag.error().message;
  auto info = client_.head_object(bucket_, "out/headed.jpg");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->etag, etag.value());
  EXPECT_EQ(info->size, 12u);
  EXPECT_EQ(info->metadata.at("imgpipe-source-key"), "raw/a%20b.jpg");

  ASSERT_TRUE(client_.delete_object(bucket_, "out/headed.jpg"));
  EXPECT_EQ(client_.head_object(bucket_, "out/headed.jpg").error().reason, Reason::object_missing);
  EXPECT_TRUE(client_.delete_object(bucket_, "out/headed.jpg")) << "deleting twice is fine";
}

TEST_F(S3Integration, keys_with_spaces_plus_percent_unicode_and_nesting_round_trip) {
  const std::vector<std::string> keys = {"odd/my photo.jpg",
                                         "odd/a+b=c&d.jpg",
                                         "odd/100% off;#1?.png",
                                         "odd/caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC.jpg",
                                         "odd/deep/er/still/deeper/x.jpg",
                                         "odd/tilde~(paren)[br]{c}@!$'*,.jpg",
                                         "odd/quote\"lt<gt>amp&.jpg"};
  for (const auto& key : keys) put(key, "body of " + key);
  for (const auto& key : keys) {
    auto object = client_.get_object(bucket_, key);
    ASSERT_TRUE(object) << key << ": " << object.error().message;
    EXPECT_EQ(object->body, "body of " + key);
  }
  auto page = client_.list_objects(bucket_, "odd/", "");
  ASSERT_TRUE(page) << page.error().message;
  std::set<std::string> listed;
  for (const auto& entry : page->objects) listed.insert(entry.key);
  EXPECT_EQ(listed, std::set<std::string>(keys.begin(), keys.end()));
}

TEST_F(S3Integration, listing_pages_through_a_prefix_with_continuation_tokens) {
  const std::string prefix = "list me/+%\xC3\xA9/";
  for (int i = 0; i < 23; ++i)
    put(prefix + "k" + std::to_string(100 + i), std::string(static_cast<std::size_t>(i), 'x'));
  put("list me/other", "not under the prefix");

  std::vector<ListEntry> entries;
  std::string token;
  int pages = 0;
  do {
    auto page = client_.list_objects(bucket_, prefix, token, 10);
    ASSERT_TRUE(page) << page.error().message;
    entries.insert(entries.end(), page->objects.begin(), page->objects.end());
    token = page->is_truncated ? page->next_continuation_token : "";
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(entries.size(), 23U);
  EXPECT_EQ(entries[0].key, prefix + "k100");
  EXPECT_EQ(entries[22].key, prefix + "k122");
  EXPECT_EQ(entries[22].size, 22U);
  EXPECT_EQ(entries[22].etag.size(), 32U);
}

TEST_F(S3Integration, multipart_upload_of_12_mib_in_5_mib_parts_round_trips) {
  const std::string body = patterned_bytes(12 * kMiB + 5);
  PutRequest request;
  request.content_type = "application/octet-stream";
  request.metadata = {{"origin", "multipart"}};
  request.body = body;
  auto etag = client_.put_object_multipart(bucket_, "big/twelve.bin", request, 5 * kMiB);
  ASSERT_TRUE(etag) << etag.error().message;
  EXPECT_TRUE(etag->ends_with("-3")) << *etag;

  auto object = client_.get_object(bucket_, "big/twelve.bin");
  ASSERT_TRUE(object) << object.error().message;
  EXPECT_EQ(object->info.etag, *etag);
  EXPECT_EQ(object->info.metadata.at("origin"), "multipart");
  EXPECT_EQ(object->info.content_type, "application/octet-stream");
  EXPECT_TRUE(object->body == body);
}

TEST_F(S3Integration, multipart_if_none_match_on_an_existing_key_fails_at_completion) {
  put("big/exists.bin", "old");
  const std::string body = patterned_bytes(kMiB);
  PutRequest request;
  request.body = body;
  request.if_none_match = true;
  auto etag = client_.put_object_multipart(bucket_, "big/exists.bin", request, 5 * kMiB);
  ASSERT_FALSE(etag);
  EXPECT_TRUE(etag.error().message.starts_with("S3 PreconditionFailed:")) << etag.error().message;
  EXPECT_EQ(client_.get_object(bucket_, "big/exists.bin").value().body, "old");
}

TEST_F(S3Integration, notification_configuration_is_written_and_read_back) {
  auto put_empty = client_.put_bucket_notification(
      bucket_,
      "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "</NotificationConfiguration>");
  ASSERT_TRUE(put_empty) << put_empty.error().message;
  auto got = client_.get_bucket_notification(bucket_);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_NE(got->find("NotificationConfiguration"), std::string::npos) << *got;

  // A signed request with a body that the server understood and refused: no
  // target with this ARN exists.
  auto unknown_target = client_.put_bucket_notification(
      bucket_,
      "<NotificationConfiguration><QueueConfiguration><Id>x</Id>"
      "<Queue>arn:minio:sqs::IMGPIPE-NO-SUCH-TARGET:kafka</Queue><Event>s3:ObjectCreated:*</Event>"
      "</QueueConfiguration></NotificationConfiguration>");
  ASSERT_FALSE(unknown_target);
  EXPECT_EQ(unknown_target.error().reason, Reason::invalid_request)
      << unknown_target.error().message;
}

// versitygw has no bucket notification API. Runs on the versitygw stack only
// (make integration-test-versitygw); the test above only on MinIO's.
TEST_F(S3Integration, bucket_notifications_are_not_implemented_on_versitygw) {
  auto got = client_.get_bucket_notification(bucket_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().reason, Reason::invalid_request) << "permanent, not an outage";
  EXPECT_NE(got.error().message.find("NotImplemented"), std::string::npos) << got.error().message;
  auto put = client_.put_bucket_notification(bucket_, "<NotificationConfiguration/>");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().reason, Reason::invalid_request) << put.error().message;
}

TEST_F(S3Integration, missing_keys_and_buckets_are_object_missing) {
  EXPECT_EQ(client_.get_object(bucket_, "never-written.jpg").error().reason,
            Reason::object_missing);
  auto no_bucket = client_.get_object(bucket_ + "-absent", "a.jpg");
  ASSERT_FALSE(no_bucket);
  EXPECT_EQ(no_bucket.error().reason, Reason::object_missing);
  EXPECT_TRUE(no_bucket.error().message.starts_with("S3 NoSuchBucket:"))
      << no_bucket.error().message;
}

TEST_F(S3Integration, wrong_secret_is_access_denied) {
  put("secret.jpg", "x");
  ClientOptions wrong = options_;
  wrong.secret_key += "-wrong";
  Client client(wrong);
  auto object = client.get_object(bucket_, "secret.jpg");
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().reason, Reason::access_denied);
  EXPECT_TRUE(object.error().message.starts_with("S3 SignatureDoesNotMatch:"))
      << object.error().message;
  PutRequest request;
  request.body = "y";
  EXPECT_EQ(client.put_object(bucket_, "secret.jpg", request).error().reason,
            Reason::access_denied);
}

TEST_F(S3Integration, closed_port_is_unavailable) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length),
            0);  // bound, never listening
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ClientOptions closed = options_;
  closed.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  Client client(closed);
  auto object = client.get_object(bucket_, "a.jpg");
  ::close(fd);
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().reason, Reason::unavailable) << object.error().message;
}

TEST_F(S3Integration, many_threads_share_one_client) {
  constexpr int kThreads = 8;
  constexpr int kObjectsPerThread = 20;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kObjectsPerThread && failures[static_cast<std::size_t>(t)].empty(); ++i) {
        const std::string key = "threads/" + std::to_string(t) + "/" + std::to_string(i);
        const std::string body = patterned_bytes(static_cast<std::size_t>(1000 * (i + 1)));
        PutRequest request;
        request.body = body;
        auto etag = client_.put_object(bucket_, key, request);
        auto object = client_.get_object(bucket_, key);
        if (!etag || !object || object->body != body) failures[static_cast<std::size_t>(t)] = key;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) EXPECT_EQ(failure, "");
}

}  // namespace
}  // namespace imgpipe::s3
