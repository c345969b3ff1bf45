// MinioAdmin: the few calls of MinIO's admin API (/minio/admin/v3) that
// `imgpipe setup` needs to give the worker an identity of its own: create a
// user, store a policy, attach the policy to the user. Requests are signed
// like S3 requests (SigV4, service s3) with the admin's credentials.
//
// MinIO expects secrets in admin requests (a new user's secret key) to be
// encrypted with the signing admin's secret key: encrypt_admin_payload
// writes that format (madmin's "PBKDF2 + AES-256-GCM" variant: a 32-byte
// salt, the algorithm byte 0x02, an 8-byte nonce, then the plaintext sealed
// in fragments of 16 KiB with a sequence number in each nonce and a final
// flag in the associated data). It is written here because no Debian library
// speaks MinIO's admin API; OpenSSL does the cryptography.
//
// Every call is one blocking HTTP request; nothing is retried. Errors carry
// MinIO's error code ("XMinioAdminNoSuchUser") in the message; 403 is
// access_denied.
//
// Thread-safety: like s3::Client (immutable options, thread-safe transport).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "s3/client.h"
#include "s3/http.h"

namespace imgpipe::s3 {

// Fills `size` bytes at `out` with unpredictable bytes. The default is
// OpenSSL's RAND_bytes; tests pass a fixed sequence.
using RandomBytes = std::function<bool(unsigned char* out, std::size_t size)>;

// `plaintext` encrypted for MinIO's admin API with a key derived from
// `secret_key` (the secret key that signs the request). Fails with internal
// only when OpenSSL fails.
Result<std::string> encrypt_admin_payload(std::string_view secret_key, std::string_view plaintext,
                                          const RandomBytes& random = {});

// The buckets a worker touches and whether it deletes outputs.
struct WorkerAccess {
  std::set<std::string> sources;
  std::set<std::string> targets;
  bool delete_outputs = false;
};

// The IAM policy document (JSON) for a worker: s3:GetObject (GET and HEAD) on
// the sources' objects; s3:GetObject and s3:PutObject (and s3:DeleteObject
// when deleting outputs) on the targets' objects; s3:ListBucket on those
// buckets only, because without it S3 answers 403 instead of 404 for a key
// that does not exist (the worker must tell "no output yet" from "denied").
// Nothing else: no other bucket, no bucket listing, no admin API.
std::string worker_policy_document(const WorkerAccess& access);

class MinioAdmin {
 public:
  // `options` are the admin's endpoint and credentials; a null transport
  // means a CurlTransport built from them.
  explicit MinioAdmin(ClientOptions options, std::shared_ptr<HttpTransport> transport = nullptr);

  // Creates the user `access_key`, or sets its secret key when it exists, and
  // enables it.
  Status add_user(const std::string& access_key, const std::string& secret_key) const;

  // Stores (or replaces) the policy `name`.
  Status put_policy(const std::string& name, std::string_view document) const;

  // Makes `policy` the only policy of user `access_key`.
  Status set_user_policy(const std::string& policy, const std::string& access_key) const;

 private:
  Status call(const std::string& method, const std::string& operation, const QueryParams& query,
              std::string_view body) const;

  ClientOptions options_;
  std::shared_ptr<HttpTransport> transport_;
};

}  // namespace imgpipe::s3
