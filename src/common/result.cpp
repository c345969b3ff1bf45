#include "common/result.h"

namespace imgpipe {

std::string_view reason_name(Reason reason) {
  switch (reason) {
    case Reason::malformed_event: return "malformed_event";
    case Reason::object_missing: return "object_missing";
    case Reason::empty_object: return "empty_object";
    case Reason::not_an_image: return "not_an_image";
    case Reason::too_many_bytes: return "too_many_bytes";
    case Reason::too_many_pixels: return "too_many_pixels";
    case Reason::too_many_frames: return "too_many_frames";
    case Reason::format_not_allowed: return "format_not_allowed";
    case Reason::decode_failed: return "decode_failed";
    case Reason::source_changed: return "source_changed";
    case Reason::encode_failed: return "encode_failed";
    case Reason::output_key_collision: return "output_key_collision";
    case Reason::write_conflict: return "write_conflict";
    case Reason::access_denied: return "access_denied";
    case Reason::invalid_request: return "invalid_request";
    case Reason::invalid_config: return "invalid_config";
    case Reason::unavailable: return "unavailable";
    case Reason::timeout: return "timeout";
    case Reason::tls_failed: return "tls_failed";
    case Reason::authentication_failed: return "authentication_failed";
    case Reason::kafka_error: return "kafka_error";
    case Reason::cancelled: return "cancelled";
    case Reason::internal: return "internal";
  }
  return "internal";
}

bool is_transient(Reason reason) {
  switch (reason) {
    case Reason::unavailable:
    case Reason::timeout:
    case Reason::tls_failed:
    case Reason::authentication_failed:
    case Reason::kafka_error: return true;
    default: return false;
  }
}

}  // namespace imgpipe
