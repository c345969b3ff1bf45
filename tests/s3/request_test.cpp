#include "s3/request.h"

#include <gtest/gtest.h>

namespace imgpipe::s3 {
namespace {

TEST(UriEncodePath, unreserved_characters_and_slashes_stay_as_they_are) {
  EXPECT_EQ(uri_encode_path("raw/2024/a-b_c.d~e.JPG"), "raw/2024/a-b_c.d~e.JPG");
}

TEST(UriEncodePath, space_plus_and_percent_are_percent_encoded) {
  EXPECT_EQ(uri_encode_path("my photo+1 100%.jpg"), "my%20photo%2B1%20100%25.jpg");
}

TEST(UriEncodePath, utf8_bytes_are_encoded_one_by_one_with_upper_case_hex) {
  EXPECT_EQ(uri_encode_path("caf\xC3\xA9/\xE6\x97\xA5.png"), "caf%C3%A9/%E6%97%A5.png");
}

TEST(UriEncodePath, reserved_characters_and_dot_segments_are_encoded_or_kept_literally) {
  EXPECT_EQ(uri_encode_path("a?b#c&d=e:f@g,h;i*j(k)l'm!n$"),
            "a%3Fb%23c%26d%3De%3Af%40g%2Ch%3Bi%2Aj%28k%29l%27m%21n%24");
  EXPECT_EQ(uri_encode_path("../x//y/./z"), "../x//y/./z");
}

TEST(UriEncode, slash_is_encoded_in_query_components) {
  EXPECT_EQ(uri_encode("a/b c"), "a%2Fb%20c");
}

TEST(EncodeQuery, parameters_are_sorted_by_name) {
  EXPECT_EQ(encode_query({{"prefix", "raw/"}, {"list-type", "2"}, {"continuation-token", "t"}}),
            "continuation-token=t&list-type=2&prefix=raw%2F");
  EXPECT_EQ(encode_query({{"uploadId", "u"}, {"partNumber", "10"}}), "partNumber=10&uploadId=u");
}

TEST(EncodeQuery, sorting_is_by_byte_so_upper_case_names_come_first) {
  EXPECT_EQ(encode_query({{"a", "1"}, {"B", "2"}}), "B=2&a=1");
}

TEST(EncodeQuery, empty_values_keep_the_equals_sign) {
  EXPECT_EQ(encode_query({{"uploads", ""}}), "uploads=");
}

TEST(EncodeQuery, values_are_rfc3986_encoded) {
  EXPECT_EQ(encode_query({{"continuation-token", "1/ab+c= =="}}),
            "continuation-token=1%2Fab%2Bc%3D%20%3D%3D");
}

TEST(BuildUrl, path_style_puts_the_bucket_in_the_path) {
  auto url = build_url("http://127.0.0.1:9000", true, "raw", "a b/c.jpg", {});
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "http://127.0.0.1:9000/raw/a%20b/c.jpg");
}

TEST(BuildUrl, virtual_host_style_puts_the_bucket_in_the_host) {
  auto url = build_url("https://s3.example.com", false, "raw", "a+b.jpg", {});
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "https://raw.s3.example.com/a%2Bb.jpg");
}

TEST(BuildUrl, bucket_requests_have_no_key_segment) {
  EXPECT_EQ(*build_url("http://h:9000", true, "raw", "", {{"notification", ""}}),
            "http://h:9000/raw?notification=");
  EXPECT_EQ(*build_url("http://h:9000", false, "raw", "", {}), "http://raw.h:9000/");
}

TEST(BuildUrl, trailing_slashes_and_base_paths_of_the_endpoint_are_handled) {
  EXPECT_EQ(*build_url("http://h:9000/", true, "b", "k", {}), "http://h:9000/b/k");
  EXPECT_EQ(*build_url("http://proxy/s3/", true, "b", "k", {}), "http://proxy/s3/b/k");
}

TEST(BuildUrl, query_is_appended_sorted) {
  EXPECT_EQ(*build_url("http://h", true, "b", "k", {{"uploadId", "x"}, {"partNumber", "1"}}),
            "http://h/b/k?partNumber=1&uploadId=x");
}

TEST(BuildUrl, endpoint_without_http_scheme_or_host_is_invalid_config) {
  for (const char* endpoint : {"127.0.0.1:9000", "ftp://h", "http://", "http://user@h"}) {
    auto url = build_url(endpoint, true, "b", "k", {});
    ASSERT_FALSE(url) << endpoint;
    EXPECT_EQ(url.error().reason, Reason::invalid_config);
  }
}

const RequestContext kGetContext{"GET", "raw", "cats/a.jpg"};

std::string error_body(std::string_view code, std::string_view message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
         "</Code><Message>" + std::string(message) +
         "</Message><Key>cats/a.jpg</Key><BucketName>raw</BucketName><Resource>/raw/cats/a.jpg"
         "</Resource><RequestId>17A</RequestId><HostId>dd9</HostId></Error>";
}

TEST(ParseErrorXml, message_names_code_message_status_method_and_object) {
  const Error error = parse_error_xml(
      404, error_body("NoSuchKey", "The specified key does not exist."), kGetContext);
  EXPECT_EQ(error.reason, Reason::object_missing);
  EXPECT_EQ(error.message,
            "S3 NoSuchKey: The specified key does not exist. (HTTP 404, GET raw/cats/a.jpg)");
}

TEST(ParseErrorXml, entities_in_the_message_are_decoded) {
  const Error error =
      parse_error_xml(400, error_body("InvalidArgument", "a &lt; b &amp; c"), kGetContext);
  EXPECT_EQ(error.message, "S3 InvalidArgument: a < b & c (HTTP 400, GET raw/cats/a.jpg)");
}

TEST(ParseErrorXml, missing_bucket_is_object_missing) {
  EXPECT_EQ(parse_error_xml(404, error_body("NoSuchBucket", "x"), kGetContext).reason,
            Reason::object_missing);
}

TEST(ParseErrorXml, credential_and_signature_errors_are_access_denied) {
  for (const char* code : {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}) {
    EXPECT_EQ(parse_error_xml(403, error_body(code, "x"), kGetContext).reason,
              Reason::access_denied)
        << code;
  }
}

TEST(ParseErrorXml, precondition_failed_is_invalid_request_with_the_code_first) {
  const Error error =
      parse_error_xml(412,
                      error_body("PreconditionFailed",
                                 "At least one of the pre-conditions you specified did not hold"),
                      {"PUT", "processed", "a.webp"});
  EXPECT_EQ(error.reason, Reason::invalid_request);
  EXPECT_TRUE(error.message.starts_with("S3 PreconditionFailed: ")) << error.message;
}

TEST(ParseErrorXml, server_errors_and_slow_down_are_unavailable) {
  EXPECT_EQ(parse_error_xml(500, error_body("InternalError", "x"), kGetContext).reason,
            Reason::unavailable);
  EXPECT_EQ(parse_error_xml(503, error_body("SlowDown", "x"), kGetContext).reason,
            Reason::unavailable);
  EXPECT_EQ(parse_error_xml(503, error_body("XMinioServerNotInitialized", "x"), kGetContext).reason,
            Reason::unavailable);
  EXPECT_EQ(parse_error_xml(502, "<html>Bad Gateway</html>", kGetContext).reason,
            Reason::unavailable);
}

TEST(ParseErrorXml, request_timeout_is_timeout_although_its_status_is_400) {
  EXPECT_EQ(parse_error_xml(400, error_body("RequestTimeout", "x"), kGetContext).reason,
            Reason::timeout);
}

TEST(ParseErrorXml, other_client_errors_are_invalid_request) {
  EXPECT_EQ(parse_error_xml(400, error_body("InvalidBucketName", "x"), kGetContext).reason,
            Reason::invalid_request);
  EXPECT_EQ(parse_error_xml(409, error_body("BucketNotEmpty", "x"), kGetContext).reason,
            Reason::invalid_request);
}

TEST(ParseErrorXml, head_responses_without_body_are_mapped_by_status) {
  const RequestContext head{"HEAD", "raw", "a.jpg"};
  const Error missing = parse_error_xml(404, "", head);
  EXPECT_EQ(missing.reason, Reason::object_missing);
  EXPECT_EQ(missing.message, "S3 NotFound: no error body (HTTP 404, HEAD raw/a.jpg)");
  EXPECT_EQ(parse_error_xml(403, "", head).reason, Reason::access_denied);
  EXPECT_EQ(parse_error_xml(412, "", head).message,
            "S3 PreconditionFailed: no error body (HTTP 412, HEAD raw/a.jpg)");
  EXPECT_EQ(parse_error_xml(500, "", head).reason, Reason::unavailable);
  EXPECT_EQ(parse_error_xml(503, "", head).reason, Reason::unavailable);
}

TEST(ParseErrorXml, non_xml_body_is_quoted_in_the_message) {
  const Error error = parse_error_xml(418, "I'm a\nteapot", {"GET", "b", ""});
  EXPECT_EQ(error.message, "S3 HTTP418: I'm a teapot (HTTP 418, GET b)");
}

TEST(IsErrorDocument, recognises_the_error_root_after_prolog_and_whitespace) {
  EXPECT_TRUE(is_error_document("<?xml version=\"1.0\"?>\n  <Error><Code>x</Code></Error>"));
  EXPECT_TRUE(is_error_document("\n\n   <Error><Code>x</Code></Error>"));
  EXPECT_FALSE(is_error_document("<CompleteMultipartUploadResult><ETag>x</ETag>"));
  EXPECT_FALSE(is_error_document("<Errors/>"));
}

constexpr std::string_view kListPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>raw</Name><Prefix>a &amp; b/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1/Ab+c==</NextContinuationToken>
<Contents><Key>a &amp; b/x &lt;1&gt;.jpg</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>&#34;0123abc&#34;</ETag><Size>12345</Size><Owner><ID>02d6</ID><DisplayName>minio</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>a &amp; b/y.jpg</Key><ETag>&quot;4567-2&quot;</ETag><Size>0</Size></Contents>
</ListBucketResult>)";

TEST(ParseListObjects, entries_keys_sizes_and_etags_are_decoded) {
  auto page = parse_list_objects_xml(kListPage);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->objects.size(), 2U);
  EXPECT_EQ(page->objects[0].key, "a & b/x <1>.jpg");
  EXPECT_EQ(page->objects[0].size, 12345U);
  EXPECT_EQ(page->objects[0].etag, "0123abc");
  EXPECT_EQ(page->objects[1].key, "a & b/y.jpg");
  EXPECT_EQ(page->objects[1].size, 0U);
  EXPECT_EQ(page->objects[1].etag, "4567-2");
}

TEST(ParseListObjects, truncated_page_carries_the_continuation_token) {
  auto page = parse_list_objects_xml(kListPage);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "1/Ab+c==");
}

TEST(ParseListObjects, last_page_is_not_truncated_and_may_be_empty) {
  auto page = parse_list_objects_xml(
      "<ListBucketResult><Name>raw</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>");
  ASSERT_TRUE(page);
  EXPECT_FALSE(page->is_truncated);
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->next_continuation_token.empty());
}

TEST(ParseListObjects, truncated_page_without_token_is_rejected_rather_than_looping) {
  auto page = parse_list_objects_xml(
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().reason, Reason::unavailable);
}

TEST(ParseListObjects, bodies_that_are_not_listings_are_rejected) {
  EXPECT_FALSE(parse_list_objects_xml("<html>proxy login</html>"));
  EXPECT_FALSE(parse_list_objects_xml(
      "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>"));
}

TEST(MultipartPartCount, rounds_up_and_has_at_least_one_part) {
  EXPECT_EQ(*multipart_part_count(12 * kMinPartSize / 5, kMinPartSize), 3U);
  EXPECT_EQ(*multipart_part_count(2 * kMinPartSize, kMinPartSize), 2U);
  EXPECT_EQ(*multipart_part_count(0, kMinPartSize), 1U);
}

TEST(MultipartPartCount, rejects_small_parts_and_more_than_10000_parts) {
  EXPECT_EQ(multipart_part_count(1, kMinPartSize - 1).error().reason, Reason::invalid_request);
  EXPECT_EQ(*multipart_part_count(kMaxParts * kMinPartSize, kMinPartSize), kMaxParts);
  EXPECT_EQ(multipart_part_count(kMaxParts * kMinPartSize + 1, kMinPartSize).error().reason,
            Reason::invalid_request);
}

TEST(StripEtagQuotes, removes_one_pair_of_surrounding_quotes_only) {
  EXPECT_EQ(strip_etag_quotes("\"abc\""), "abc");
  EXPECT_EQ(strip_etag_quotes("abc"), "abc");
  EXPECT_EQ(strip_etag_quotes("\""), "\"");
  EXPECT_EQ(strip_etag_quotes(""), "");
}

TEST(ObjectInfoFromHeaders, reads_etag_size_type_and_user_metadata) {
  const ObjectInfo info = object_info_from_headers({{"etag", "\"abc\""},
                                                    {"content-length", "42"},
                                                    {"content-type", "image/jpeg"},
                                                    {"x-amz-meta-source-etag", "def"},
                                                    {"x-amz-meta-rule", "thumb"},
                                                    {"x-amz-request-id", "17A"}});
  EXPECT_EQ(info.etag, "abc");
  EXPECT_EQ(info.size, 42U);
  EXPECT_EQ(info.content_type, "image/jpeg");
  const std::map<std::string, std::string> expected{{"rule", "thumb"}, {"source-etag", "def"}};
  EXPECT_EQ(info.metadata, expected);
}

TEST(ObjectInfoFromHeaders, missing_or_garbled_length_reads_as_zero) {
  EXPECT_EQ(object_info_from_headers({}).size, 0U);
  EXPECT_EQ(object_info_from_headers({{"content-length", "lots"}}).size, 0U);
}

TEST(ParseListObjects, last_modified_is_read_to_the_millisecond) {
  auto page = parse_list_objects_xml(kListPage);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->objects[0].last_modified_ms, 1704067200000);  // 2024-01-01T00:00:00Z
  EXPECT_EQ(page->objects[1].last_modified_ms, -1);             // not listed
}

TEST(ParseIso8601, fractions_of_any_length_and_no_fraction) {
  EXPECT_EQ(parse_iso8601_ms("2026-12-01T10:00:00.123Z"), 1796119200123);
  EXPECT_EQ(parse_iso8601_ms("2026-12-01T10:00:00Z"), 1796119200000);
  EXPECT_EQ(parse_iso8601_ms("2026-12-01T10:00:00.5Z"), 1796119200500);
  EXPECT_EQ(parse_iso8601_ms("2026-12-01T10:00:00.123456789Z"), 1796119200123);
}

TEST(ParseIso8601, refuses_what_is_not_utc_iso8601) {
  EXPECT_FALSE(parse_iso8601_ms(""));
  EXPECT_FALSE(parse_iso8601_ms("2026-12-01 10:00:00"));
  EXPECT_FALSE(parse_iso8601_ms("2026-12-01T10:00:00+01:00"));
  EXPECT_FALSE(parse_iso8601_ms("2026-12-01T10:00:00.Z"));
  EXPECT_FALSE(parse_iso8601_ms("Tue, 01 Dec 2026 10:00:00 GMT"));
}

}  // namespace
}  // namespace imgpipe::s3
