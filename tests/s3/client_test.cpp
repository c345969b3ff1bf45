#include "s3/client.h"

#include <gtest/gtest.h>

#include "s3/fake_transport.h"

namespace imgpipe::s3 {
namespace {

using testing::FakeTransport;
using testing::response;
using testing::s3_error;

constexpr std::size_t kMiB = std::size_t{1} << 20;

class ClientTest : public ::testing::Test {
 protected:
  ClientOptions options() const {
    ClientOptions options;
    options.endpoint = "http://minio:9000";
    options.access_key = "key";
    options.secret_key = "secret";
    return options;
  }
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  Client client_{options(), transport_};
};

TEST_F(ClientTest, get_object_sends_a_get_to_the_encoded_path_style_url) {
  transport_->then(response(200, "jpeg-bytes",
                            {{"etag", "\"e1\""},
                             {"content-length", "10"},
                             {"content-type", "image/jpeg"},
                             {"x-amz-meta-camera", "x100"}}));
  auto object = client_.get_object("raw", "cats/my cat+1.jpg");
  ASSERT_TRUE(object) << object.error().message;
  const auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].url, "http://minio:9000/raw/cats/my%20cat%2B1.jpg");
  EXPECT_EQ(object->body, "jpeg-bytes");
  EXPECT_EQ(object->info.etag, "e1");
  EXPECT_EQ(object->info.size, 10U);
  EXPECT_EQ(object->info.content_type, "image/jpeg");
  EXPECT_EQ(object->info.metadata.at("camera"), "x100");
}

TEST_F(ClientTest, get_object_of_a_missing_key_is_object_missing) {
  transport_->then(response(404, s3_error("NoSuchKey", "The specified key does not exist.")));
  auto object = client_.get_object("raw", "nope.jpg");
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().reason, Reason::object_missing);
  EXPECT_EQ(object.error().message,
            "S3 NoSuchKey: The specified key does not exist. (HTTP 404, GET raw/nope.jpg)");
}

TEST_F(ClientTest, transport_failure_is_passed_on_as_unavailable) {
  transport_->then(make_error(Reason::unavailable, "curl: Couldn't connect to server"));
  auto object = client_.get_object("raw", "a.jpg");
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().reason, Reason::unavailable);
}

TEST_F(ClientTest, put_object_sends_body_content_type_and_lower_cased_metadata) {
  transport_->then(response(200, "", {{"etag", "\"new-etag\""}}));
  PutRequest put;
  put.content_type = "image/webp";
  put.metadata = {{"Source-ETag", "abc"}, {"rule", "thumb"}};
  put.body = "webp-bytes";
  auto etag = client_.put_object("processed", "thumbs/a.webp", put);
  ASSERT_TRUE(etag) << etag.error().message;
  EXPECT_EQ(*etag, "new-etag");
  const auto request = transport_->requests().at(0);
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.url, "http://minio:9000/processed/thumbs/a.webp");
  EXPECT_EQ(request.body, "webp-bytes");
  EXPECT_EQ(request.header("Content-Type"), "image/webp");
  EXPECT_EQ(request.header("x-amz-meta-source-etag"), "abc");
  EXPECT_EQ(request.header("x-amz-meta-rule"), "thumb");
  EXPECT_FALSE(request.has_header("If-None-Match"));
}

TEST_F(ClientTest, put_object_with_if_none_match_sends_star_and_reports_a_write_conflict) {
  transport_->then(response(412, s3_error("PreconditionFailed",
                                          "At least one of the pre-conditions "
                                          "you specified did not hold")));
  PutRequest put;
  put.body = "x";
  put.if_none_match = true;
  auto etag = client_.put_object("processed", "a.webp", put);
  EXPECT_EQ(transport_->requests().at(0).header("If-None-Match"), "*");
  EXPECT_FALSE(transport_->requests().at(0).has_header("Content-Type"));
  ASSERT_FALSE(etag);
  EXPECT_EQ(etag.error().reason, Reason::write_conflict);
  EXPECT_TRUE(etag.error().message.starts_with("S3 PreconditionFailed:")) << etag.error().message;
}

TEST_F(ClientTest, put_object_rejects_unsendable_metadata_without_a_request) {
  for (const auto& metadata :
       std::vector<std::map<std::string, std::string>>{{{"bad name", "v"}},
                                                       {{"k", ""}},
                                                       {{"k", "a\r\nX-Injected: 1"}},
                                                       {{"k", "caf\xC3\xA9"}},
                                                       {{"K", "1"}, {"k", "2"}}}) {
    PutRequest put;
    put.metadata = metadata;
    auto etag = client_.put_object("b", "k", put);
    ASSERT_FALSE(etag);
    EXPECT_EQ(etag.error().reason, Reason::invalid_request);
  }
  EXPECT_TRUE(transport_->requests().empty());
}

TEST_F(ClientTest, access_denied_and_server_errors_keep_their_reasons) {
  transport_->then(response(403, s3_error("SignatureDoesNotMatch")));
  transport_->then(response(503, s3_error("SlowDown")));
  PutRequest put;
  EXPECT_EQ(client_.put_object("b", "k", put).error().reason, Reason::access_denied);
  EXPECT_EQ(client_.put_object("b", "k", put).error().reason, Reason::unavailable);
}

TEST(Client, virtual_host_style_puts_the_bucket_in_the_host_name) {
  auto transport = std::make_shared<FakeTransport>();
  ClientOptions options;
  options.endpoint = "https://s3.example.com";
  options.path_style = false;
  Client client(options, transport);
  (void)client.get_object("raw", "a b.jpg");
  EXPECT_EQ(transport->requests().at(0).url, "https://raw.s3.example.com/a%20b.jpg");
}

TEST(Client, bad_endpoint_fails_every_call_with_invalid_config) {
  auto transport = std::make_shared<FakeTransport>();
  ClientOptions options;
  options.endpoint = "minio:9000";
  EXPECT_EQ(validate(options).error().reason, Reason::invalid_config);
  Client client(options, transport);
  EXPECT_EQ(client.get_object("raw", "a").error().reason, Reason::invalid_config);
  EXPECT_TRUE(transport->requests().empty());
}

TEST_F(ClientTest, create_bucket_puts_the_bucket_without_body_in_us_east_1) {
  ASSERT_TRUE(client_.create_bucket("raw"));
  const auto request = transport_->requests().at(0);
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.url, "http://minio:9000/raw");
  EXPECT_EQ(request.body, "");
}

TEST(Client, create_bucket_outside_us_east_1_sends_the_location_constraint) {
  auto transport = std::make_shared<FakeTransport>();
  ClientOptions options;
  options.region = "eu-west-1";
  Client client(options, transport);
  ASSERT_TRUE(client.create_bucket("raw"));
  EXPECT_NE(
      transport->requests().at(0).body.find("<LocationConstraint>eu-west-1</LocationConstraint>"),
      std::string::npos);
}

TEST_F(ClientTest, create_bucket_that_we_already_own_succeeds) {
  transport_->then(response(409, s3_error("BucketAlreadyOwnedByYou")));
  EXPECT_TRUE(client_.create_bucket("raw"));
  EXPECT_EQ(transport_->requests().size(), 1U);
}

TEST_F(ClientTest, create_bucket_that_exists_succeeds_only_when_we_can_head_it) {
  transport_->then(response(409, s3_error("BucketAlreadyExists")));
  transport_->then(response(200));
  EXPECT_TRUE(client_.create_bucket("raw"));
  EXPECT_EQ(transport_->requests().at(1).method, "HEAD");

  transport_->then(response(409, s3_error("BucketAlreadyExists")));
  transport_->then(response(403));
  auto status = client_.create_bucket("taken");
  ASSERT_FALSE(status);
  EXPECT_TRUE(status.error().message.starts_with("S3 BucketAlreadyExists:"))
      << status.error().message;
}

TEST_F(ClientTest, bucket_exists_is_true_on_200_false_on_404_and_an_error_otherwise) {
  transport_->then(response(200));
  transport_->then(response(404));
  transport_->then(response(403));
  EXPECT_EQ(client_.bucket_exists("a").value(), true);
  EXPECT_EQ(client_.bucket_exists("b").value(), false);
  EXPECT_EQ(client_.bucket_exists("c").error().reason, Reason::access_denied);
  EXPECT_EQ(transport_->requests().at(0).url, "http://minio:9000/a");
}

TEST_F(ClientTest, bucket_notification_uses_the_notification_subresource) {
  const std::string xml = "<NotificationConfiguration></NotificationConfiguration>";
  transport_->then(response(200));
  transport_->then(response(200, xml));
  ASSERT_TRUE(client_.put_bucket_notification("raw", xml));
  auto got = client_.get_bucket_notification("raw");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, xml);
  const auto requests = transport_->requests();
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].url, "http://minio:9000/raw?notification=");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/xml");
  EXPECT_EQ(requests[0].body, xml);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].url, "http://minio:9000/raw?notification=");
}

TEST_F(ClientTest, list_objects_sends_a_sorted_encoded_query_and_parses_the_page) {
  transport_->then(response(200,
                            "<ListBucketResult><IsTruncated>true</"
                            "IsTruncated><NextContinuationToken>t2</NextContinuationToken>"
                            "<Contents><Key>in/a.jpg</Key><ETag>\"e\"</ETag><Size>3</Size></"
                            "Contents></ListBucketResult>"));
  auto page = client_.list_objects("raw", "in/sub dir/", "t1/+=", 2);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(transport_->requests().at(0).url,
            "http://minio:9000/raw?continuation-token=t1%2F%2B%3D&list-type=2&max-keys=2&"
            "prefix=in%2Fsub%20dir%2F");
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "t2");
  ASSERT_EQ(page->objects.size(), 1U);
  EXPECT_EQ(page->objects[0].key, "in/a.jpg");
}

TEST_F(ClientTest, list_objects_of_the_first_page_sends_only_list_type) {
  transport_->then(
      response(200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"));
  ASSERT_TRUE(client_.list_objects("raw", "", ""));
  EXPECT_EQ(transport_->requests().at(0).url, "http://minio:9000/raw?list-type=2");
}

constexpr std::string_view kCreated =
    "<InitiateMultipartUploadResult><Bucket>raw</Bucket><Key>big.jpg</Key>"
    "<UploadId>up/1+2</UploadId></InitiateMultipartUploadResult>";

std::string twelve_mib_body() {
  std::string body(12 * kMiB, 'a');
  body[5 * kMiB] = 'b';
  body[10 * kMiB] = 'c';
  return body;
}

TEST_F(ClientTest, multipart_upload_creates_uploads_parts_in_order_and_completes) {
  const std::string body = twelve_mib_body();
  transport_->then(response(200, std::string(kCreated)));
  transport_->then(response(200, "", {{"etag", "\"p1\""}}));
  transport_->then(response(200, "", {{"etag", "\"p2\""}}));
  transport_->then(response(200, "", {{"etag", "\"p3\""}}));
  transport_->then(response(200,
                            "<CompleteMultipartUploadResult><ETag>&quot;all-3&quot;</ETag>"
                            "</CompleteMultipartUploadResult>"));
  PutRequest put;
  put.content_type = "image/jpeg";
  put.metadata = {{"rule", "copy"}};
  put.body = body;
  auto etag = client_.put_object_multipart("raw", "big.jpg", put, 5 * kMiB);
  ASSERT_TRUE(etag) << etag.error().message;
  EXPECT_EQ(*etag, "all-3");

  const auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 5U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, "http://minio:9000/raw/big.jpg?uploads=");
  EXPECT_EQ(requests[0].header("Content-Type"), "image/jpeg");
  EXPECT_EQ(requests[0].header("x-amz-meta-rule"), "copy");
  for (int part = 1; part <= 3; ++part) {
    const auto& request = requests[static_cast<std::size_t>(part)];
    EXPECT_EQ(request.method, "PUT");
    EXPECT_EQ(request.url, "http://minio:9000/raw/big.jpg?partNumber=" + std::to_string(part) +
                               "&uploadId=up%2F1%2B2");
    EXPECT_FALSE(request.has_header("x-amz-meta-rule"));
  }
  EXPECT_EQ(requests[1].body.size(), 5 * kMiB);
  EXPECT_EQ(requests[2].body.size(), 5 * kMiB);
  EXPECT_EQ(requests[3].body.size(), 2 * kMiB);
  EXPECT_EQ(requests[2].body.front(), 'b');
  EXPECT_EQ(requests[3].body.front(), 'c');
  EXPECT_EQ(requests[1].body + requests[2].body + requests[3].body, body);
  EXPECT_EQ(requests[4].method, "POST");
  EXPECT_EQ(requests[4].url, "http://minio:9000/raw/big.jpg?uploadId=up%2F1%2B2");
  EXPECT_EQ(requests[4].body,
            "<CompleteMultipartUpload>"
            "<Part><PartNumber>1</PartNumber><ETag>&quot;p1&quot;</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>&quot;p2&quot;</ETag></Part>"
            "<Part><PartNumber>3</PartNumber><ETag>&quot;p3&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
  EXPECT_FALSE(requests[4].has_header("If-None-Match"));
}

TEST_F(ClientTest, multipart_upload_aborts_when_a_part_fails) {
  const std::string body = twelve_mib_body();
  transport_->then(response(200, std::string(kCreated)));
  transport_->then(response(200, "", {{"etag", "\"p1\""}}));
  transport_->then(response(500, s3_error("InternalError")));
  transport_->then(response(204));
  PutRequest put;
  put.body = body;
  auto etag = client_.put_object_multipart("raw", "big.jpg", put, 5 * kMiB);
  ASSERT_FALSE(etag);
  EXPECT_EQ(etag.error().reason, Reason::unavailable);
  EXPECT_TRUE(etag.error().message.starts_with("S3 InternalError:")) << etag.error().message;
  const auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 4U);
  EXPECT_EQ(requests[3].method, "DELETE");
  EXPECT_EQ(requests[3].url, "http://minio:9000/raw/big.jpg?uploadId=up%2F1%2B2");
}

TEST_F(ClientTest, multipart_upload_aborts_when_the_transport_fails_during_a_part) {
  transport_->then(response(200, std::string(kCreated)));
  transport_->then(make_error(Reason::timeout, "curl: Timeout was reached"));
  const std::string body(6 * kMiB, 'x');
  PutRequest put;
  put.body = body;
  auto etag = client_.put_object_multipart("raw", "big.jpg", put, 5 * kMiB);
  ASSERT_FALSE(etag);
  EXPECT_EQ(etag.error().reason, Reason::timeout);
  EXPECT_EQ(transport_->requests().back().method, "DELETE");
}

TEST_F(ClientTest, multipart_completion_error_inside_a_200_answer_fails_and_aborts) {
  transport_->then(response(200, std::string(kCreated)));
  transport_->then(response(200, "", {{"etag", "\"p1\""}}));
  transport_->then(
      response(200, "\n   " + s3_error("InternalError", "We encountered an internal error")));
  const std::string body(kMiB, 'x');
  PutRequest put;
  put.body = body;
  auto etag = client_.put_object_multipart("raw", "big.jpg", put, 5 * kMiB);
  ASSERT_FALSE(etag);
  EXPECT_EQ(etag.error().reason, Reason::unavailable);
  EXPECT_EQ(transport_->requests().back().method, "DELETE");
}

TEST_F(ClientTest, multipart_if_none_match_is_sent_when_completing) {
  transport_->then(response(200, std::string(kCreated)));
  transport_->then(response(200, "", {{"etag", "\"p1\""}}));
  transport_->then(response(412, s3_error("PreconditionFailed")));
  const std::string body(kMiB, 'x');
  PutRequest put;
  put.body = body;
  put.if_none_match = true;
  auto etag = client_.put_object_multipart("raw", "big.jpg", put, 5 * kMiB);
  ASSERT_FALSE(etag);
  EXPECT_TRUE(etag.error().message.starts_with("S3 PreconditionFailed:"));
  const auto requests = transport_->requests();
  EXPECT_FALSE(requests[0].has_header("If-None-Match"));
  EXPECT_EQ(requests[2].header("If-None-Match"), "*");
  EXPECT_EQ(requests[3].method, "DELETE");
}

TEST_F(ClientTest, multipart_rejects_parts_below_5_mib_without_a_request) {
  PutRequest put;
  auto small = client_.put_object_multipart("raw", "k", put, kMiB);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().reason, Reason::invalid_request);
  EXPECT_TRUE(transport_->requests().empty());
}

}  // namespace
}  // namespace imgpipe::s3
