#include "s3/minio_admin.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <nlohmann/json.hpp>

#include "fake_transport.h"

namespace imgpipe::s3 {
namespace {

using testing::FakeTransport;
using testing::response;

// Bytes 0, 1, 2, ... : a reproducible stand-in for RAND_bytes.
RandomBytes counting_bytes() {
  return [next = 0](unsigned char* out, std::size_t size) mutable {
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<unsigned char>(next++);
    return true;
  };
}

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : bytes) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

// What MinIO does with the payload, written from madmin's description of the
// format (salt | 0x02 | nonce | fragments), to check round trips and tampering.
std::optional<std::string> open_payload(std::string_view secret, std::string_view data) {
  if (data.size() < 41 || static_cast<unsigned char>(data[32]) != 0x02) return std::nullopt;
  std::array<unsigned char, 32> key{};
  PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                    reinterpret_cast<const unsigned char*>(data.data()), 32, 8192, EVP_sha256(), 32,
                    key.data());
  auto nonce_for = [&](std::uint32_t sequence) {
    std::array<unsigned char, 12> nonce{};
    std::copy(data.begin() + 33, data.begin() + 41, nonce.begin());
    for (int i = 0; i < 4; ++i) nonce[8 + i] = static_cast<unsigned char>(sequence >> (8 * i));
    return nonce;
  };
  // One GCM operation: encrypt (for the empty tag) or decrypt and verify.
  auto gcm = [&](bool encrypt, std::uint32_t sequence, const std::string& aad, std::string_view in,
                 std::string& out, std::string& tag) {
    EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
    const auto nonce = nonce_for(sequence);
    EVP_CipherInit_ex(context, EVP_aes_256_gcm(), nullptr, key.data(), nonce.data(),
                      encrypt ? 1 : 0);
    int length = 0;
    if (!aad.empty())
      EVP_CipherUpdate(context, nullptr, &length,
                       reinterpret_cast<const unsigned char*>(aad.data()),
                       static_cast<int>(aad.size()));
    out.assign(in.size(), '\0');
    if (!in.empty())
      EVP_CipherUpdate(context, reinterpret_cast<unsigned char*>(out.data()), &length,
                       reinterpret_cast<const unsigned char*>(in.data()),
                       static_cast<int>(in.size()));
    if (!encrypt) EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, tag.data());
    const bool ok = EVP_CipherFinal_ex(context, nullptr, &length) == 1;
    if (encrypt) {
      tag.assign(16, '\0');
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, tag.data());
    }
    EVP_CIPHER_CTX_free(context);
    return ok;
  };
  std::string ignored, empty_tag;
  gcm(true, 0, "", "", ignored, empty_tag);
  std::string_view rest = data.substr(41);
  std::string plaintext;
  for (std::uint32_t sequence = 1; !rest.empty(); ++sequence) {
    const bool last = rest.size() <= 16384 + 16;
    const std::size_t size = last ? rest.size() : 16384 + 16;
    if (size < 16) return std::nullopt;
    std::string tag(rest.substr(size - 16, 16)), fragment;
    const std::string aad = std::string(1, last ? '\x80' : '\x00') + empty_tag;
    if (!gcm(false, sequence, aad, rest.substr(0, size - 16), fragment, tag)) return std::nullopt;
    plaintext += fragment;
    rest.remove_prefix(size);
  }
  return plaintext;
}

TEST(AdminPayload, StartsWithSaltAlgorithmAndNonceAndAddsOneTagPerFragment) {
  auto small = encrypt_admin_payload("secret", "{\"a\":1}", counting_bytes());
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->size(), 32u + 1 + 8 + 7 + 16);
  EXPECT_EQ(hex(small->substr(0, 32)),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(static_cast<unsigned char>((*small)[32]), 0x02);
  EXPECT_EQ(hex(small->substr(33, 8)), "2021222324252627");

  auto large = encrypt_admin_payload("secret", std::string(20000, 'x'), counting_bytes());
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->size(), 41u + 20000 + 2 * 16);
  auto exact = encrypt_admin_payload("secret", std::string(16384, 'x'), counting_bytes());
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->size(), 41u + 16384 + 16) << "16 KiB exactly is one final fragment";
}

// Known answer: this ciphertext (salt and nonce from counting_bytes) was
// decrypted to {"a":1} by madmin-go v3.0.109's DecryptData("secret", ...), the
// code MinIO itself runs on admin requests; so was a 20000-byte payload.
TEST(AdminPayload, MatchesWhatMadminDecrypts) {
  auto sealed = encrypt_admin_payload("secret", "{\"a\":1}", counting_bytes());
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(hex(*sealed),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f02202122232425262"
            "71c93ad4245035fa05503e61fe10c5a776466c7c24e0a88");
}

TEST(AdminPayload, OpensWithTheSameSecretOnlyAndDetectsTampering) {
  for (const std::size_t size : {std::size_t{0}, std::size_t{45}, std::size_t{40000}}) {
    std::string plaintext(size, '\0');
    for (std::size_t i = 0; i < size; ++i) plaintext[i] = static_cast<char>('a' + i % 26);
    auto sealed = encrypt_admin_payload("admin-secret", plaintext);
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(open_payload("admin-secret", *sealed), plaintext) << size;
    EXPECT_EQ(open_payload("other-secret", *sealed), std::nullopt) << size;
    std::string tampered = *sealed;
    tampered[45] = static_cast<char>(tampered[45] ^ 1);
    EXPECT_EQ(open_payload("admin-secret", tampered), std::nullopt) << size;
  }
}

TEST(AdminPayload, TwoEncryptionsOfOneTextDiffer) {
  auto first = encrypt_admin_payload("s", "same");
  auto second = encrypt_admin_payload("s", "same");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second) << "fresh salt and nonce each time";
}

TEST(AdminPayload, FailsWhenNoRandomBytesCanBeHad) {
  auto sealed = encrypt_admin_payload("s", "x", [](unsigned char*, std::size_t) { return false; });
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.error().reason, Reason::internal);
}

TEST(WorkerPolicy, GrantsReadOnSourcesWriteOnTargetsAndListingOfThoseBucketsOnly) {
  const auto policy =
      nlohmann::json::parse(worker_policy_document({{"raw"}, {"thumbs", "web"}, true}));
  const auto expected = nlohmann::json::parse(R"({
    "Version": "2012-10-17",
    "Statement": [
      {"Sid": "ReadSources", "Effect": "Allow", "Action": ["s3:GetObject"],
       "Resource": ["arn:aws:s3:::raw/*"]},
      {"Sid": "WriteTargets", "Effect": "Allow",
       "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
       "Resource": ["arn:aws:s3:::thumbs/*", "arn:aws:s3:::web/*"]},
      {"Sid": "TellMissingKeysFromDenied", "Effect": "Allow", "Action": ["s3:ListBucket"],
       "Resource": ["arn:aws:s3:::raw", "arn:aws:s3:::thumbs", "arn:aws:s3:::web"]}
    ]})");
  EXPECT_EQ(policy, expected);
}

TEST(WorkerPolicy, NoDeleteWhenOutputsAreNotDeleted) {
  const auto policy = nlohmann::json::parse(worker_policy_document({{"raw"}, {"out"}, false}));
  EXPECT_EQ(policy["Statement"][1]["Action"],
            nlohmann::json::parse(R"(["s3:GetObject","s3:PutObject"])"));
}

ClientOptions admin_options() {
  ClientOptions options;
  options.endpoint = "https://127.0.0.1:9000/";
  options.access_key = "root";
  options.secret_key = "root-secret";
  return options;
}

std::string sha256_hex(std::string_view body) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest.data());
  return hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

TEST(MinioAdmin, AddUserSendsTheSecretEncryptedWithTheAdminSecret) {
  auto transport = std::make_shared<FakeTransport>();
  MinioAdmin admin(admin_options(), transport);
  ASSERT_TRUE(admin.add_user("worker", "worker-secret-123").ok());
  const auto sent = transport->requests().at(0);
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.url, "https://127.0.0.1:9000/minio/admin/v3/add-user?accessKey=worker");
  EXPECT_EQ(sent.body.find("worker-secret-123"), std::string::npos);
  EXPECT_EQ(sent.header("x-amz-content-sha256"), sha256_hex(sent.body));
  const auto opened = open_payload("root-secret", sent.body);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(nlohmann::json::parse(*opened),
            nlohmann::json::parse(R"({"secretKey":"worker-secret-123","status":"enabled"})"));
}

TEST(MinioAdmin, PolicyCallsAddressThePolicyAndTheUser) {
  auto transport = std::make_shared<FakeTransport>();
  MinioAdmin admin(admin_options(), transport);
  ASSERT_TRUE(admin.put_policy("imgpipe-worker", "{\"Version\":\"2012-10-17\"}").ok());
  ASSERT_TRUE(admin.set_user_policy("imgpipe-worker", "worker").ok());
  const auto sent = transport->requests();
  EXPECT_EQ(sent.at(0).url,
            "https://127.0.0.1:9000/minio/admin/v3/add-canned-policy?name=imgpipe-worker");
  EXPECT_EQ(sent.at(0).body, "{\"Version\":\"2012-10-17\"}");
  EXPECT_EQ(sent.at(1).url,
            "https://127.0.0.1:9000/minio/admin/v3/"
            "set-user-or-group-policy?isGroup=false&policyName=imgpipe-worker&userOrGroup=worker");
}

TEST(MinioAdmin, ErrorsCarryMinioCodeAndReason) {
  auto transport = std::make_shared<FakeTransport>();
  MinioAdmin admin(admin_options(), transport);
  transport->then(response(403, R"({"Code":"AccessDenied","Message":"Access Denied."})"));
  transport->then(response(404, R"({"Code":"XMinioAdminNoSuchUser","Message":"no such user"})"));
  transport->then(response(404, "<Error><Code>NoSuchBucket</Code></Error>"));
  transport->then(response(503, ""));
  auto denied = admin.add_user("w", "secret-secret");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().reason, Reason::access_denied);
  EXPECT_EQ(denied.error().message,
            "MinIO admin add-user: AccessDenied: Access Denied. (HTTP 403)");
  auto missing = admin.set_user_policy("p", "w");
  EXPECT_EQ(missing.error().reason, Reason::object_missing);
  EXPECT_NE(missing.error().message.find("XMinioAdminNoSuchUser"), std::string::npos);
  auto not_minio = admin.put_policy("p", "{}");
  EXPECT_NE(not_minio.error().message.find("no MinIO admin API"), std::string::npos);
  EXPECT_EQ(admin.put_policy("p", "{}").error().reason, Reason::unavailable);
}

}  // namespace
}  // namespace imgpipe::s3
