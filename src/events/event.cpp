#include "events/event.h"

#include <nlohmann/json.hpp>
#include <optional>

namespace imgpipe::events {
namespace {

using nlohmann::json;

Error malformed(std::string what) {
  return make_error(Reason::malformed_event, std::move(what));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Returns the string at `field` of `object`, or "" when absent/not a string.
std::string optional_string(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

const json* find_object(const json& parent, const char* field) {
  auto it = parent.find(field);
  return it != parent.end() && it->is_object() ? &*it : nullptr;
}

std::uint64_t optional_size(const json& object) {
  auto it = object.find("size");
  if (it == object.end() || !it->is_number_integer()) return 0;
  auto value = it->get<std::int64_t>();
  return value > 0 ? static_cast<std::uint64_t>(value) : 0;
}

std::map<std::string, std::string> string_map(const json* object) {
  std::map<std::string, std::string> out;
  if (object == nullptr) return out;
  for (const auto& [name, value] : object->items()) {
    if (value.is_string()) out.emplace(name, value.get<std::string>());
  }
  return out;
}

// versitygw's bucket ARN is "arn:aws:s3:::/<bucket>/<key>"; MinIO's and
// AWS's are "arn:aws:s3:::<bucket>".
constexpr std::string_view kVersitygwArnPrefix = "arn:aws:s3:::/";

// Where a record says the object is: bucket and key as written (not decoded).
struct WrittenLocation {
  std::string bucket;
  std::string key;
};

// versitygw fills bucket.name (and object.key when the key has no '/') from
// its HTTP server's request buffer after the request has ended, when that
// buffer may already hold another request: under concurrent PUTs about one
// record in ten names another bucket or object (docs/s3-servers.md). The ARN
// is copied while the request is handled, so bucket and key come from there;
// object.key only where the ARN has no key (a multi-object delete, whose keys
// come from the request body). `arn` starts with kVersitygwArnPrefix.
WrittenLocation versitygw_location(std::string_view arn, const json& object) {
  const std::string_view path = arn.substr(kVersitygwArnPrefix.size());
  const std::size_t slash = path.find('/');
  WrittenLocation where{std::string(path.substr(0, slash)), {}};
  if (slash != std::string_view::npos) where.key = std::string(path.substr(slash + 1));
  if (where.key.empty()) where.key = optional_string(object, "key");
  return where;
}

std::string without_quotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

Result<std::string> decode_key(const std::string& written, bool raw, const std::string& where) {
  if (raw) return written;
  auto key = query_unescape(written);
  if (!key) return malformed(where + ".s3.object.key: " + key.error().message);
  return key;
}

Result<ObjectEvent> parse_record(const json& record, std::size_t index, KeyEncoding keys) {
  const std::string where = "Records[" + std::to_string(index) + "]";
  if (!record.is_object()) return malformed(where + " is not an object");
  ObjectEvent event;
  event.event_name = optional_string(record, "eventName");
  if (event.event_name.empty()) return malformed(where + ".eventName is missing");
  event.kind = classify_event_name(event.event_name);
  event.event_time = optional_string(record, "eventTime");

  const json* s3 = find_object(record, "s3");
  if (s3 == nullptr) return malformed(where + ".s3 is missing");
  const json* bucket = find_object(*s3, "bucket");
  const json* object = find_object(*s3, "object");
  if (bucket == nullptr) return malformed(where + ".s3.bucket is missing");
  if (object == nullptr) return malformed(where + ".s3.object is missing");

  const std::string arn = optional_string(*bucket, "arn");
  const bool versitygw = arn.starts_with(kVersitygwArnPrefix);
  WrittenLocation written = versitygw ? versitygw_location(arn, *object)
                                      : WrittenLocation{optional_string(*bucket, "name"),
                                                        optional_string(*object, "key")};
  if (written.bucket.empty()) return malformed(where + ".s3.bucket.name is missing");
  if (written.key.empty()) return malformed(where + ".s3.object.key is missing");
  event.bucket = std::move(written.bucket);
  const bool raw = keys == KeyEncoding::raw || (keys == KeyEncoding::detect && versitygw);
  auto key = decode_key(written.key, raw, where);
  if (!key) return key.error();
  event.key = std::move(key).value();

  event.size = optional_size(*object);
  event.etag = without_quotes(optional_string(*object, "eTag"));
  event.content_type = optional_string(*object, "contentType");
  if (!versitygw) event.sequencer = optional_string(*object, "sequencer");
  event.user_metadata = string_map(find_object(*object, "userMetadata"));
  return event;
}

// {"Service":"S3","Event":"s3:TestEvent","Time":"...","Bucket":"..."}
std::optional<ObjectEvent> test_message(const json& document) {
  const std::string name = optional_string(document, "Event");
  if (classify_event_name(name) != EventKind::test) return std::nullopt;
  ObjectEvent event;
  event.event_name = name;
  event.kind = EventKind::test;
  event.bucket = optional_string(document, "Bucket");
  event.event_time = optional_string(document, "Time");
  return event;
}

}  // namespace

const std::vector<std::string>& key_encoding_names() {
  static const std::vector<std::string> names = {"detect", "query", "raw"};
  return names;
}

KeyEncoding key_encoding_from_name(std::string_view name) {
  if (name == "query") return KeyEncoding::query;
  if (name == "raw") return KeyEncoding::raw;
  return KeyEncoding::detect;
}

EventKind classify_event_name(std::string_view name) {
  if (name.starts_with("s3:")) name.remove_prefix(3);
  if (name.starts_with("ObjectCreated:")) return EventKind::created;
  if (name.starts_with("ObjectRemoved:")) return EventKind::removed;
  if (name.starts_with("ObjectAccessed:")) return EventKind::accessed;
  if (name == "TestEvent") return EventKind::test;
  return EventKind::other;
}

std::string query_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool alphanumeric =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alphanumeric || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

Result<std::string> query_unescape(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= escaped.size()) {
        return malformed("truncated percent escape at offset " + std::to_string(i));
      }
      const int high = hex_value(escaped[i + 1]);
      const int low = hex_value(escaped[i + 2]);
      if (high < 0 || low < 0)
        return malformed("invalid percent escape at offset " + std::to_string(i));
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<ObjectEvent>> parse_event_message(std::string_view text, KeyEncoding keys) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return malformed("message is not valid JSON");
  if (!document.is_object()) return malformed("message is not a JSON object");
  auto records = document.find("Records");
  if (records == document.end()) {
    if (auto test = test_message(document)) return std::vector<ObjectEvent>{std::move(*test)};
  }
  if (records == document.end() || !records->is_array())
    return malformed("message has no Records array");
  if (records->empty()) return malformed("Records is empty");

  std::vector<ObjectEvent> events;
  events.reserve(records->size());
  for (std::size_t i = 0; i < records->size(); ++i) {
    auto event = parse_record((*records)[i], i, keys);
    if (!event) return event.error();
    events.push_back(std::move(event).value());
  }
  return events;
}

}  // namespace imgpipe::events
