// Pure building blocks of S3 requests and responses: percent-encoding, sorted
// query strings, path-style and virtual-host URLs, S3 XML error bodies and
// their Reason, ListObjectsV2 pages, and object metadata from headers.
//
// Kept free of I/O so each rule is unit-tested on its own; s3::Client
// composes them.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "s3/object_store.h"

namespace imgpipe::s3 {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 encoding of an object key for the URL path: every byte outside
// A-Za-z0-9-._~ and '/' becomes %XX with upper-case hex (space → %20,
// '+' → %2B, '%' → %25, UTF-8 bytes one by one).
std::string uri_encode_path(std::string_view key);

// Like uri_encode_path, but '/' is encoded too (query names and values).
std::string uri_encode(std::string_view text);

// "name=value&..." sorted by encoded name, then value, names and values
// RFC 3986-encoded. An empty value still gets '=' ("uploads="): that is the
// canonical form SigV4 signs, and libcurl 7.88 signs the query verbatim.
std::string encode_query(QueryParams params);

// The request URL. Path style: <endpoint>/<bucket>/<key>; virtual-host style:
// <scheme>://<bucket>.<host>/<key>. An empty key addresses the bucket itself.
// Fails with invalid_config when the endpoint is not http(s)://host[:port][/path].
Result<std::string> build_url(std::string_view endpoint, bool path_style, std::string_view bucket,
                              std::string_view key, const QueryParams& query);

// What a request was about, for error messages.
struct RequestContext {
  std::string_view method;
  std::string_view bucket;
  std::string_view key;
};

// The Reason for an S3 error code (may be empty, e.g. HEAD) and HTTP status.
Reason reason_for_s3_error(long status, std::string_view code);

// The Error for a failed response. The message reads
// "S3 <Code>: <Message> (HTTP <status>, <method> <bucket>/<key>)", with the
// code taken from the XML body, or derived from the status when there is no
// body (HEAD) or it is not S3 XML.
Error parse_error_xml(long status, std::string_view body, const RequestContext& context);

// True when `body` is an S3 <Error> document. CompleteMultipartUpload can
// answer 200 with one.
bool is_error_document(std::string_view body);

// Parses a ListObjectsV2 <ListBucketResult>. Fails with unavailable when the
// body is not one (an unexpected proxy or server answer).
Result<ListPage> parse_list_objects_xml(std::string_view body);

// "2026-12-01T10:00:00.123Z" (ISO 8601 in UTC, S3's listing format; the
// fraction is optional) as Unix milliseconds; nullopt when it is not that.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

// Removes one pair of surrounding double quotes: "\"abc\"" → "abc".
std::string strip_etag_quotes(std::string_view etag);

// Smallest part S3 accepts for every part but the last, and its part limit.
inline constexpr std::size_t kMinPartSize = std::size_t{5} << 20;
inline constexpr std::size_t kMaxParts = 10000;

// How many parts a multipart upload of `size` bytes needs (at least one).
// Fails with invalid_request when part_size is below kMinPartSize or more
// than kMaxParts parts would be needed.
Result<std::size_t> multipart_part_count(std::size_t size, std::size_t part_size);

// ObjectInfo from GET/HEAD response headers (lower-case names): etag,
// content-length, content-type and x-amz-meta-* (prefix removed).
ObjectInfo object_info_from_headers(const std::map<std::string, std::string>& headers);

}  // namespace imgpipe::s3
