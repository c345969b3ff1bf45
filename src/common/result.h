// Result<T>: a value or an Error carrying a reason code.
//
// Every component boundary (events, kafka, s3, image, pipeline) returns
// Result<T> instead of throwing. The reason code is what callers act on:
// pipeline::classify() turns it into retry / skip in one place, metrics count
// failures by reason_name(), logs print it.
//
// Thread-safety: plain values, no shared state.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace imgpipe {

enum class Reason {
  // Input that can never succeed; retrying would not help.
  malformed_event,       // Kafka message is not a MinIO/S3 event we understand
  object_missing,        // S3 says the object (or bucket) does not exist
  empty_object,          // 0-byte object
  not_an_image,          // bytes are not a format the image loader accepts
  too_many_bytes,        // over the byte limit (from the event or the body)
  too_many_pixels,       // the header claims more pixels than allowed (decompression bombs)
  too_many_frames,       // more animation frames than allowed
  format_not_allowed,    // an image format outside allowed_formats, or an untrusted loader
  decode_failed,         // a known format, but broken/truncated
  source_changed,        // the object is no longer the version the event names (If-Match)
  encode_failed,         // the encoder refused the result
  output_key_collision,  // the output key holds an object derived from another source key
  write_conflict,        // the output changed between reading and writing it (412 on PUT)
  access_denied,         // S3 403 (credentials or policy)
  invalid_request,       // S3 4xx other than the above, or a request we could not build
  invalid_config,        // configuration rejected at load time
  // Conditions that may clear up on their own.
  unavailable,  // connection refused/reset, DNS, 5xx, 503 SlowDown
  timeout,      // a request or operation ran out of time
  // The connection itself is refused on security grounds: an operator must act
  // (CA bundle, certificate, credentials), but nothing is wrong with the data,
  // so work waits instead of being dead-lettered.
  tls_failed,             // certificate not trusted, expired, wrong host, handshake failed
  authentication_failed,  // the broker refused the SASL credentials
  kafka_error,            // broker-side error from librdkafka
  cancelled,  // shutdown or a lost partition aborted a request under way (not a failure)
  internal,   // a bug: should not happen; stays last (code iterates up to it)
};

// Stable snake_case name used in logs, metrics labels and --help text.
std::string_view reason_name(Reason reason);

// True for reasons where trying the same thing again later can succeed.
bool is_transient(Reason reason);

struct Error {
  Reason reason = Reason::internal;
  std::string message;
};

inline Error make_error(Reason reason, std::string message) {
  return Error{reason, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<T>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<Error>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() {
  return Unit{};
}

}  // namespace imgpipe
