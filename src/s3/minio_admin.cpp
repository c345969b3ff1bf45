#include "s3/minio_admin.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "s3/request.h"

namespace imgpipe::s3 {
namespace {

constexpr std::size_t kSaltSize = 32;
constexpr std::size_t kStreamNonceSize = 8;  // + 4 bytes of sequence number = GCM's 12
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kFragmentSize = std::size_t{1} << 14;
constexpr unsigned char kPbkdf2AesGcm = 0x02;
constexpr int kPbkdf2Iterations = 8192;

using Bytes = std::vector<unsigned char>;

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};

// AES-256-GCM: ciphertext followed by the 16-byte tag, appended to `out`.
bool seal(const Bytes& key, const std::array<unsigned char, 12>& nonce, const Bytes& associated,
          std::string_view plaintext, std::string& out) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter> context(EVP_CIPHER_CTX_new());
  if (!context ||
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1)
    return false;
  int length = 0;
  if (!associated.empty() && EVP_EncryptUpdate(context.get(), nullptr, &length, associated.data(),
                                               static_cast<int>(associated.size())) != 1)
    return false;
  std::string sealed(plaintext.size() + kTagSize, '\0');
  auto* cursor = reinterpret_cast<unsigned char*>(sealed.data());
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(context.get(), cursor, &length,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1)
    return false;
  if (EVP_EncryptFinal_ex(context.get(), cursor + plaintext.size(), &length) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                          cursor + plaintext.size()) != 1)
    return false;
  out += sealed;
  return true;
}

std::array<unsigned char, 12> fragment_nonce(const Bytes& stream_nonce, std::uint32_t sequence) {
  std::array<unsigned char, 12> nonce{};
  std::copy(stream_nonce.begin(), stream_nonce.end(), nonce.begin());
  for (std::size_t i = 0; i < 4; ++i) {
    nonce[kStreamNonceSize + i] = static_cast<unsigned char>(sequence >> (8 * i));  // little endian
  }
  return nonce;
}

std::string hex_sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

Reason reason_for_admin_status(long status) {
  if (status == 403) return Reason::access_denied;
  if (status == 404) return Reason::object_missing;
  if (status >= 500) return Reason::unavailable;
  return Reason::invalid_request;
}

// "MinIO admin add-user: XMinioAdminNoSuchUser: The specified user does not exist. (HTTP 404)"
Error admin_error(const std::string& operation, const HttpResponse& response) {
  std::string detail;
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("Code") && body["Code"].is_string()) {
    detail = body["Code"].get<std::string>();
    if (body.contains("Message") && body["Message"].is_string())
      detail += ": " + body["Message"].get<std::string>();
  } else if (response.status == 404 || response.status == 400 || response.status == 405) {
    detail = "this server has no MinIO admin API";
  } else {
    detail = "unexpected answer";
  }
  return make_error(reason_for_admin_status(response.status),
                    "MinIO admin " + operation + ": " + detail + " (HTTP " +
                        std::to_string(response.status) + ")");
}

nlohmann::json arns(const std::set<std::string>& buckets, const char* suffix) {
  auto list = nlohmann::json::array();
  for (const auto& bucket : buckets) list.push_back("arn:aws:s3:::" + bucket + suffix);
  return list;
}

nlohmann::json statement(const char* sid, std::vector<std::string> actions,
                         nlohmann::json resources) {
  return {{"Sid", sid}, {"Effect", "Allow"}, {"Action", actions}, {"Resource", resources}};
}

}  // namespace

Result<std::string> encrypt_admin_payload(std::string_view secret_key, std::string_view plaintext,
                                          const RandomBytes& random) {
  const RandomBytes fill = random ? random : [](unsigned char* out, std::size_t size) {
    return RAND_bytes(out, static_cast<int>(size)) == 1;
  };
  Bytes salt(kSaltSize), stream_nonce(kStreamNonceSize), key(32);
  if (!fill(salt.data(), salt.size()) || !fill(stream_nonce.data(), stream_nonce.size()))
    return make_error(Reason::internal, "no random bytes for the admin payload");
  if (PKCS5_PBKDF2_HMAC(secret_key.data(), static_cast<int>(secret_key.size()), salt.data(),
                        static_cast<int>(salt.size()), kPbkdf2Iterations, EVP_sha256(),
                        static_cast<int>(key.size()), key.data()) != 1)
    return make_error(Reason::internal, "PBKDF2 failed");

  std::string out(salt.begin(), salt.end());
  out += static_cast<char>(kPbkdf2AesGcm);
  out.append(stream_nonce.begin(), stream_nonce.end());

  // The associated data of every fragment: a flag byte (0x80 on the last
  // fragment) and the tag of an empty message sealed under sequence number 0.
  std::string empty_tag;
  if (!seal(key, fragment_nonce(stream_nonce, 0), {}, {}, empty_tag))
    return make_error(Reason::internal, "AES-GCM failed");
  Bytes associated{0x00};
  associated.insert(associated.end(), empty_tag.begin(), empty_tag.end());

  std::uint32_t sequence = 1;
  std::string_view rest = plaintext;
  while (rest.size() > kFragmentSize) {
    if (!seal(key, fragment_nonce(stream_nonce, sequence++), associated,
              rest.substr(0, kFragmentSize), out))
      return make_error(Reason::internal, "AES-GCM failed");
    rest.remove_prefix(kFragmentSize);
  }
  associated[0] = 0x80;
  if (!seal(key, fragment_nonce(stream_nonce, sequence), associated, rest, out))
    return make_error(Reason::internal, "AES-GCM failed");
  return out;
}

std::string worker_policy_document(const WorkerAccess& access) {
  std::vector<std::string> target_actions = {"s3:GetObject", "s3:PutObject"};
  if (access.delete_outputs) target_actions.emplace_back("s3:DeleteObject");
  std::set<std::string> all = access.sources;
  all.insert(access.targets.begin(), access.targets.end());
  auto statements = nlohmann::json::array();
  if (!access.sources.empty())
    statements.push_back(statement("ReadSources", {"s3:GetObject"}, arns(access.sources, "/*")));
  if (!access.targets.empty())
    statements.push_back(statement("WriteTargets", target_actions, arns(access.targets, "/*")));
  if (!all.empty())
    statements.push_back(statement("TellMissingKeysFromDenied", {"s3:ListBucket"}, arns(all, "")));
  return nlohmann::json{{"Version", "2012-10-17"}, {"Statement", statements}}.dump();
}

MinioAdmin::MinioAdmin(ClientOptions options, std::shared_ptr<HttpTransport> transport)
    : options_(std::move(options)), transport_(std::move(transport)) {
  if (transport_ == nullptr) {
    transport_ = std::make_shared<CurlTransport>(transport_options(options_));
  }
}

Status MinioAdmin::add_user(const std::string& access_key, const std::string& secret_key) const {
  const auto body = nlohmann::json{{"secretKey", secret_key}, {"status", "enabled"}}.dump();
  auto encrypted = encrypt_admin_payload(options_.secret_key, body);
  if (!encrypted) return encrypted.error();
  return call("PUT", "add-user", {{"accessKey", access_key}}, encrypted.value());
}

Status MinioAdmin::put_policy(const std::string& name, std::string_view document) const {
  return call("PUT", "add-canned-policy", {{"name", name}}, document);
}

Status MinioAdmin::set_user_policy(const std::string& policy, const std::string& access_key) const {
  return call("PUT", "set-user-or-group-policy",
              {{"policyName", policy}, {"userOrGroup", access_key}, {"isGroup", "false"}}, {});
}

Status MinioAdmin::call(const std::string& method, const std::string& operation,
                        const QueryParams& query, std::string_view body) const {
  auto endpoint = build_url(options_.endpoint, true, "", "", {});
  if (!endpoint) return endpoint.error();
  std::string url = endpoint.value();
  if (!url.empty() && url.back() == '/') url.pop_back();
  url += "/minio/admin/v3/" + operation + "?" + encode_query(query);
  // Signed over the body's hash: the admin API does not take UNSIGNED-PAYLOAD everywhere.
  HeaderList headers = {{"x-amz-content-sha256", hex_sha256(body)}};
  auto response = transport_->perform(HttpRequest{method, url, headers, body});
  if (!response) return response.error();
  if (response->status < 200 || response->status > 299) return admin_error(operation, *response);
  return ok_status();
}

}  // namespace imgpipe::s3
