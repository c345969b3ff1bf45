#include "s3/request.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <initializer_list>

#include "s3/xml.h"

namespace imgpipe::s3 {
namespace {

constexpr std::string_view kMetadataPrefix = "x-amz-meta-";
// How much of a non-XML error body goes into the message.
constexpr std::size_t kBodySnippet = 200;

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

bool contains(std::initializer_list<std::string_view> codes, std::string_view code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

Reason reason_for_status(long status) {
  if (status == 404) return Reason::object_missing;
  if (status == 401 || status == 403) return Reason::access_denied;
  if (status == 408) return Reason::timeout;
  // Not implemented is an answer, not an outage: trying again cannot help.
  if (status == 501) return Reason::invalid_request;
  if (status == 429 || status >= 500) return Reason::unavailable;
  return Reason::invalid_request;
}

// The code S3 would have put in the body, for responses that have none (HEAD).
std::string code_for_status(long status) {
  switch (status) {
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 501: return "NotImplemented";
    case 503: return "ServiceUnavailable";
    default: return "HTTP" + std::to_string(status);
  }
}

std::string_view skip_prolog(std::string_view body) {
  const auto skip_space = [&] {
    const std::size_t first = body.find_first_not_of(" \t\r\n");
    body.remove_prefix(first == std::string_view::npos ? body.size() : first);
  };
  skip_space();
  if (body.starts_with("<?xml")) {
    const std::size_t end = body.find("?>");
    body.remove_prefix(end == std::string_view::npos ? body.size() : end + 2);
    skip_space();
  }
  return body;
}

bool starts_with_element(std::string_view body, std::string_view tag) {
  const std::string_view root = skip_prolog(body);
  if (!root.starts_with("<") || !root.substr(1).starts_with(tag)) return false;
  const std::size_t after = 1 + tag.size();
  return after < root.size() && (root[after] == '>' || root[after] == ' ' || root[after] == '/');
}

std::string describe_target(const RequestContext& context) {
  std::string target(context.bucket);
  if (!context.key.empty()) target.append("/").append(context.key);
  return target;
}

std::string printable_snippet(std::string_view body) {
  std::string out(body.substr(0, kBodySnippet));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
  return out;
}

Result<ListEntry> parse_list_entry(std::string_view contents) {
  ListEntry entry;
  entry.key = xml_text(contents, "Key").value_or("");
  entry.etag = strip_etag_quotes(xml_text(contents, "ETag").value_or(""));
  const std::string size = xml_text(contents, "Size").value_or("");
  const auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), entry.size);
  if (entry.key.empty() || ec != std::errc() || ptr != size.data() + size.size()) {
    return make_error(Reason::unavailable, "ListObjectsV2 entry without a valid Key and Size: " +
                                               printable_snippet(contents));
  }
  entry.last_modified_ms =
      parse_iso8601_ms(xml_text(contents, "LastModified").value_or("")).value_or(-1);
  return entry;
}

}  // namespace

std::string uri_encode_path(std::string_view key) {
  return percent_encode(key, /*keep_slash=*/true);
}

std::string uri_encode(std::string_view text) {
  return percent_encode(text, /*keep_slash=*/false);
}

std::string encode_query(QueryParams params) {
  for (auto& [name, value] : params) {
    name = uri_encode(name);
    value = uri_encode(value);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out.append(name).append("=").append(value);
  }
  return out;
}

Result<std::string> build_url(std::string_view endpoint, bool path_style, std::string_view bucket,
                              std::string_view key, const QueryParams& query) {
  const std::size_t scheme_end = endpoint.find("://");
  const std::string_view scheme =
      scheme_end == std::string_view::npos ? "" : endpoint.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return make_error(Reason::invalid_config, "S3 endpoint '" + std::string(endpoint) +
                                                  "' must start with http:// or https://");
  }
  std::string_view rest = endpoint.substr(scheme_end + 3);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view base_path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.empty() || authority.find_first_of("@?#") != std::string_view::npos) {
    return make_error(Reason::invalid_config,
                      "S3 endpoint '" + std::string(endpoint) + "' has no valid host[:port]");
  }

  std::string url(scheme);
  url += "://";
  if (!path_style && !bucket.empty()) url.append(bucket).append(".");
  url.append(authority).append(base_path);
  if (path_style && !bucket.empty()) {
    url.append("/").append(uri_encode_path(bucket));
    if (!key.empty()) url.append("/").append(uri_encode_path(key));
  } else {
    url.append("/").append(uri_encode_path(key));
  }
  if (!query.empty()) url.append("?").append(encode_query(query));
  return url;
}

Reason reason_for_s3_error(long status, std::string_view code) {
  if (contains({"NoSuchKey", "NoSuchBucket", "NotFound", "NoSuchVersion"}, code)) {
    return Reason::object_missing;
  }
  if (contains({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
                "AccountProblem", "ExpiredToken", "InvalidToken", "RequestTimeTooSkewed"},
               code)) {
    return Reason::access_denied;
  }
  if (code == "RequestTimeout") return Reason::timeout;
  if (contains({"SlowDown", "ServiceUnavailable", "InternalError", "OperationAborted",
                "XMinioServerNotInitialized"},
               code)) {
    return Reason::unavailable;
  }
  return reason_for_status(status);
}

Error parse_error_xml(long status, std::string_view body, const RequestContext& context) {
  std::string code;
  std::string message;
  if (is_error_document(body)) {
    code = xml_text(body, "Code").value_or("");
    message = xml_text(body, "Message").value_or("");
  }
  if (code.empty()) code = code_for_status(status);
  if (message.empty()) message = body.empty() ? "no error body" : printable_snippet(body);
  return make_error(reason_for_s3_error(status, code),
                    "S3 " + code + ": " + message + " (HTTP " + std::to_string(status) + ", " +
                        std::string(context.method) + " " + describe_target(context) + ")");
}

bool is_error_document(std::string_view body) {
  return starts_with_element(body, "Error");
}

Result<ListPage> parse_list_objects_xml(std::string_view body) {
  if (!starts_with_element(body, "ListBucketResult")) {
    return make_error(Reason::unavailable,
                      "not a ListObjectsV2 result: " + printable_snippet(body));
  }
  ListPage page;
  for (const std::string_view contents : xml_elements(body, "Contents")) {
    auto entry = parse_list_entry(contents);
    if (!entry) return entry.error();
    page.objects.push_back(std::move(entry).value());
  }
  page.is_truncated = xml_text(body, "IsTruncated").value_or("false") == "true";
  page.next_continuation_token = xml_text(body, "NextContinuationToken").value_or("");
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return make_error(Reason::unavailable,
                      "truncated ListObjectsV2 page without a continuation token");
  }
  return page;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
  std::tm utc{};
  const std::string copy(text);
  const char* rest = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
  if (rest == nullptr) return std::nullopt;
  std::int64_t millis = 0;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    for (; std::isdigit(static_cast<unsigned char>(*rest)) != 0; ++rest, ++digits) {
      if (digits < 3) millis = millis * 10 + (*rest - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (std::string_view(rest) != "Z") return std::nullopt;
  return static_cast<std::int64_t>(timegm(&utc)) * 1000 + millis;
}

std::string strip_etag_quotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

Result<std::size_t> multipart_part_count(std::size_t size, std::size_t part_size) {
  if (part_size < kMinPartSize) {
    return make_error(Reason::invalid_request,
                      "multipart part size " + std::to_string(part_size) + " is below 5 MiB");
  }
  const std::size_t parts = std::max<std::size_t>(1, size / part_size + (size % part_size != 0));
  if (parts > kMaxParts) {
    return make_error(Reason::invalid_request, "multipart upload would need " +
                                                   std::to_string(parts) + " parts; S3 allows " +
                                                   std::to_string(kMaxParts));
  }
  return parts;
}

ObjectInfo object_info_from_headers(const std::map<std::string, std::string>& headers) {
  ObjectInfo info;
  const auto find = [&](const std::string& name) -> std::string_view {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  };
  info.etag = strip_etag_quotes(find("etag"));
  info.content_type = std::string(find("content-type"));
  const std::string_view length = find("content-length");
  if (std::from_chars(length.data(), length.data() + length.size(), info.size).ec != std::errc()) {
    info.size = 0;
  }
  for (const auto& [name, value] : headers) {
    if (name.starts_with(kMetadataPrefix)) {
      info.metadata.emplace(name.substr(kMetadataPrefix.size()), value);
    }
  }
  return info;
}

}  // namespace imgpipe::s3
