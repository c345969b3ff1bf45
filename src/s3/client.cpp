#include "s3/client.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "common/ascii.h"
#include "s3/curl_transport.h"
#include "s3/xml.h"

namespace imgpipe::s3 {
namespace {

constexpr std::string_view kDefaultRegion = "us-east-1";

bool is_success(long status) {
  return status >= 200 && status < 300;
}

bool is_header_token(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
  });
}

Status validate_metadata_entry(const std::string& name, const std::string& value) {
  if (!is_header_token(name)) {
    return make_error(Reason::invalid_request, "metadata name '" + name + "' is not an HTTP token");
  }
  // S3 returns non-ASCII values RFC 2047-encoded, so they would not read back as written.
  const bool printable_ascii = std::all_of(value.begin(), value.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F;
  });
  if (value.empty() || !printable_ascii) {
    return make_error(Reason::invalid_request,
                      "metadata '" + name + "' must have a non-empty, printable ASCII value");
  }
  return ok_status();
}

// Content-Type and x-amz-meta-* headers of a new object.
Result<HeaderList> object_headers(const PutRequest& request) {
  HeaderList headers;
  if (!request.content_type.empty()) headers.emplace_back("Content-Type", request.content_type);
  std::map<std::string, std::string> lowered;
  for (const auto& [name, value] : request.metadata) {
    if (auto valid = validate_metadata_entry(name, value); !valid) return valid.error();
    if (!lowered.emplace(ascii_lower(name), value).second) {
      return make_error(Reason::invalid_request,
                        "metadata name '" + name + "' occurs twice when lower-cased");
    }
  }
  for (const auto& [name, value] : lowered) headers.emplace_back("x-amz-meta-" + name, value);
  return headers;
}

std::string response_etag(const HttpResponse& response) {
  const auto it = response.headers.find("etag");
  return it == response.headers.end() ? std::string() : it->second;
}

std::string create_bucket_body(std::string_view region) {
  if (region.empty() || region == kDefaultRegion) return {};
  return "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
         "<LocationConstraint>" +
         xml_escape(region) + "</LocationConstraint></CreateBucketConfiguration>";
}

std::string complete_multipart_body(const std::vector<std::string>& part_etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < part_etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
            xml_escape(part_etags[i]) + "</ETag></Part>";
  }
  return body + "</CompleteMultipartUpload>";
}

}  // namespace

TransportOptions transport_options(const ClientOptions& options) {
  TransportOptions transport;
  transport.region = options.region;
  transport.access_key = options.access_key;
  transport.secret_key = options.secret_key;
  transport.connect_timeout_ms = options.connect_timeout_ms;
  transport.request_timeout_ms = options.request_timeout_ms;
  transport.ca_file = options.ca_file;
  transport.insecure_skip_tls_verify = options.insecure_skip_tls_verify;
  return transport;
}

Status validate(const ClientOptions& options) {
  auto url = build_url(options.endpoint, options.path_style, "bucket", "key", {});
  if (!url) return url.error();
  return ok_status();
}

Client::Client(ClientOptions options, std::shared_ptr<HttpTransport> transport)
    : options_(std::move(options)), transport_(std::move(transport)) {
  if (transport_ == nullptr) {
    transport_ = std::make_shared<CurlTransport>(transport_options(options_));
  }
}

Result<HttpResponse> Client::send(const Call& call) const {
  auto url = build_url(options_.endpoint, options_.path_style, call.bucket, call.key, call.query);
  if (!url) return url.error();
  return transport_->perform(HttpRequest{call.method, std::move(url).value(), call.headers,
                                         call.body, call.max_body_bytes, call.stop});
}

Result<HttpResponse> Client::send_ok(const Call& call) const {
  auto response = send(call);
  if (response && !is_success(response->status)) {
    return parse_error_xml(response->status, response->body, {call.method, call.bucket, call.key});
  }
  return response;
}

Result<Object> Client::get_object(const std::string& bucket, const std::string& key,
                                  const GetOptions& options) {
  HeaderList headers;
  if (!options.if_match.empty()) headers.emplace_back("If-Match", "\"" + options.if_match + "\"");
  auto response =
      send({"GET", bucket, key, {}, std::move(headers), {}, options.max_bytes, options.stop});
  if (response && response->status == 412 && !options.if_match.empty()) {
    return make_error(Reason::source_changed, "S3 PreconditionFailed: " + bucket + "/" + key +
                                                  " is no longer ETag " + options.if_match);
  }
  if (response && !is_success(response->status)) {
    return parse_error_xml(response->status, response->body, {"GET", bucket, key});
  }
  if (!response) return response.error();
  Object object{object_info_from_headers(response->headers), std::move(response->body)};
  object.info.size = object.body.size();
  return object;
}

Result<std::string> Client::put_object(const std::string& bucket, const std::string& key,
                                       const PutRequest& request) {
  auto headers = object_headers(request);
  if (!headers) return headers.error();
  if (request.if_none_match) headers->emplace_back("If-None-Match", "*");
  if (!request.if_match.empty()) headers->emplace_back("If-Match", "\"" + request.if_match + "\"");
  auto response =
      send({"PUT", bucket, key, {}, std::move(headers).value(), request.body, 0, request.stop});
  if (!response) return response.error();
  // 412: the precondition failed. MinIO answers a failed If-Match on a key
  // that does not exist with 404 NoSuchKey: the same conflict.
  const bool conditional = request.if_none_match || !request.if_match.empty();
  if (response->status == 412 || (conditional && response->status == 404)) {
    return make_error(
        Reason::write_conflict,
        "S3 PreconditionFailed: " + bucket + "/" + key +
            (request.if_none_match ? " exists already" : " is no longer ETag " + request.if_match));
  }
  if (!is_success(response->status)) {
    return parse_error_xml(response->status, response->body, {"PUT", bucket, key});
  }
  return strip_etag_quotes(response_etag(*response));
}

Result<ObjectInfo> Client::head_object(const std::string& bucket, const std::string& key,
                                       std::stop_token stop) {
  auto response = send({"HEAD", bucket, key, {}, {}, {}, 0, std::move(stop)});
  if (!response) return response.error();
  // A HEAD answer has no body to carry the S3 error code.
  if (response->status == 404) {
    return make_error(Reason::object_missing, "S3 NoSuchKey (HEAD): " + bucket + "/" + key);
  }
  if (!is_success(response->status)) {
    return parse_error_xml(response->status, response->body, {"HEAD", bucket, key});
  }
  return object_info_from_headers(response->headers);
}

Status Client::delete_object(const std::string& bucket, const std::string& key,
                             std::stop_token stop) {
  auto response = send_ok({"DELETE", bucket, key, {}, {}, {}, 0, std::move(stop)});
  if (!response) return response.error();
  return ok_status();
}

Status Client::create_bucket(const std::string& bucket) {
  const std::string body = create_bucket_body(options_.region);
  auto response = send({"PUT", bucket, "", {}, {}, body});
  if (!response) return response.error();
  if (is_success(response->status)) return ok_status();
  const std::string code = xml_text(response->body, "Code").value_or("");
  if (code == "BucketAlreadyOwnedByYou") return ok_status();
  if (code == "BucketAlreadyExists") {
    // The name is taken; it is ours exactly when we can HEAD it.
    auto exists = bucket_exists(bucket);
    if (exists && *exists) return ok_status();
  }
  return parse_error_xml(response->status, response->body, {"PUT", bucket, ""});
}

Result<bool> Client::bucket_exists(const std::string& bucket) {
  auto response = send({"HEAD", bucket, "", {}, {}, {}});
  if (!response) return response.error();
  if (response->status == 404) return false;
  if (!is_success(response->status)) {
    return parse_error_xml(response->status, response->body, {"HEAD", bucket, ""});
  }
  return true;
}

Status Client::put_bucket_notification(const std::string& bucket, std::string_view xml) {
  auto response = send_ok(
      {"PUT", bucket, "", {{"notification", ""}}, {{"Content-Type", "application/xml"}}, xml});
  if (!response) return response.error();
  return ok_status();
}

Result<std::string> Client::get_bucket_notification(const std::string& bucket) {
  auto response = send_ok({"GET", bucket, "", {{"notification", ""}}, {}, {}});
  if (!response) return response.error();
  return std::move(response->body);
}

Result<ListPage> Client::list_objects(const std::string& bucket, const std::string& prefix,
                                      const std::string& continuation_token, int max_keys) {
  QueryParams query{{"list-type", "2"}};
  if (!prefix.empty()) query.emplace_back("prefix", prefix);
  if (!continuation_token.empty()) query.emplace_back("continuation-token", continuation_token);
  if (max_keys > 0) query.emplace_back("max-keys", std::to_string(max_keys));
  auto response = send_ok({"GET", bucket, "", std::move(query), {}, {}});
  if (!response) return response.error();
  return parse_list_objects_xml(response->body);
}

Result<std::string> Client::put_object_multipart(const std::string& bucket, const std::string& key,
                                                 const PutRequest& request, std::size_t part_size) {
  const auto part_count = multipart_part_count(request.body.size(), part_size);
  if (!part_count) return part_count.error();
  auto upload_id = create_multipart_upload(bucket, key, request);
  if (!upload_id) return upload_id.error();

  std::vector<std::string> part_etags;
  for (std::size_t i = 0; i < *part_count; ++i) {
    const std::string_view part =
        request.body.substr(std::min(i * part_size, request.body.size()), part_size);
    auto etag = upload_part(bucket, key, *upload_id, i + 1, part);
    if (!etag) {
      abort_multipart_upload(bucket, key, *upload_id);
      return etag.error();
    }
    part_etags.push_back(std::move(etag).value());
  }
  auto etag = complete_multipart_upload(bucket, key, *upload_id, part_etags, request.if_none_match);
  if (!etag) abort_multipart_upload(bucket, key, *upload_id);
  return etag;
}

Result<std::string> Client::create_multipart_upload(const std::string& bucket,
                                                    const std::string& key,
                                                    const PutRequest& request) const {
  auto headers = object_headers(request);
  if (!headers) return headers.error();
  auto response = send_ok({"POST", bucket, key, {{"uploads", ""}}, std::move(headers).value(), {}});
  if (!response) return response.error();
  auto upload_id = xml_text(response->body, "UploadId");
  if (!upload_id || upload_id->empty()) {
    return make_error(Reason::unavailable, "CreateMultipartUpload answer without UploadId (POST " +
                                               bucket + "/" + key + ")");
  }
  return std::move(upload_id).value();
}

Result<std::string> Client::upload_part(const std::string& bucket, const std::string& key,
                                        const std::string& upload_id, std::size_t part_number,
                                        std::string_view part) const {
  QueryParams query{{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  auto response = send_ok({"PUT", bucket, key, std::move(query), {}, part});
  if (!response) return response.error();
  std::string etag = response_etag(*response);
  if (etag.empty()) {
    return make_error(Reason::unavailable, "UploadPart answer without ETag (PUT " + bucket + "/" +
                                               key + " part " + std::to_string(part_number) + ")");
  }
  return etag;
}

Result<std::string> Client::complete_multipart_upload(const std::string& bucket,
                                                      const std::string& key,
                                                      const std::string& upload_id,
                                                      const std::vector<std::string>& part_etags,
                                                      bool if_none_match) const {
  const std::string body = complete_multipart_body(part_etags);
  HeaderList headers{{"Content-Type", "application/xml"}};
  if (if_none_match) headers.emplace_back("If-None-Match", "*");
  auto response =
      send_ok({"POST", bucket, key, {{"uploadId", upload_id}}, std::move(headers), body});
  if (!response) return response.error();
  // S3 may fail the completion after sending "200 OK" (it keeps the
  // connection alive with whitespace), so the error arrives in the body.
  if (is_error_document(response->body)) {
    return parse_error_xml(response->status, response->body, {"POST", bucket, key});
  }
  auto etag = xml_text(response->body, "ETag");
  if (!etag) {
    return make_error(Reason::unavailable, "CompleteMultipartUpload answer without ETag (POST " +
                                               bucket + "/" + key + ")");
  }
  return strip_etag_quotes(*etag);
}

void Client::abort_multipart_upload(const std::string& bucket, const std::string& key,
                                    const std::string& upload_id) const {
  // Best effort: the caller reports the original failure; a leftover upload
  // is removed by the bucket's lifecycle rules, not by us.
  (void)send({"DELETE", bucket, key, {{"uploadId", upload_id}}, {}, {}});
}

}  // namespace imgpipe::s3
