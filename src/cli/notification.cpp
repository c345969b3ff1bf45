#include "cli/notification.h"

#include "s3/xml.h"

namespace imgpipe::cli {
namespace {

constexpr std::string_view kNamespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// One configuration per event type, each with its own Id (S3 wants them
// unique): "imgpipe" for uploads (as it always was), "imgpipe-removed" for
// deletes.
std::string queue_id(std::string_view event) {
  return event.starts_with("s3:ObjectRemoved") ? "imgpipe-removed" : "imgpipe";
}

std::string queue_block(std::string_view arn, std::string_view event) {
  return "<QueueConfiguration><Id>" + queue_id(event) + "</Id><Queue>" + s3::xml_escape(arn) +
         "</Queue><Event>" + s3::xml_escape(event) + "</Event></QueueConfiguration>";
}

// An ARN without its region field: MinIO accepts arn:minio:sqs::PRIMARY:kafka
// but answers with arn:minio:sqs:<region>:PRIMARY:kafka when a region is set.
std::string without_region(std::string_view arn) {
  std::string out;
  int field = 0;
  for (char c : arn) {
    if (c == ':') ++field;
    if (field != 3 || c == ':') out.push_back(c);
  }
  return out;
}

bool sends_event(std::string_view block, std::string_view event) {
  for (const auto element : s3::xml_elements(block, "Event")) {
    if (s3::xml_decode(element) == event) return true;
  }
  return false;
}

// True when some QueueConfiguration names both `arn` (in any region) and `event`.
bool already_configured(std::string_view xml, std::string_view arn, std::string_view event) {
  const std::string wanted_queue = without_region(arn);
  for (const auto block : s3::xml_elements(xml, "QueueConfiguration")) {
    const auto queue = s3::xml_text(block, "Queue");
    if (queue && without_region(*queue) == wanted_queue && sends_event(block, event)) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> add_queue_notification(std::string_view existing, std::string_view arn,
                                                  std::string_view event) {
  if (already_configured(existing, arn, event)) return std::nullopt;
  const std::string block = queue_block(arn, event);
  const auto close = existing.rfind("</NotificationConfiguration>");
  if (close != std::string_view::npos) {
    std::string merged(existing.substr(0, close));
    merged += block;
    merged += existing.substr(close);
    return merged;
  }
  return "<NotificationConfiguration xmlns=\"" + std::string(kNamespace) + "\">" + block +
         "</NotificationConfiguration>";
}

}  // namespace imgpipe::cli
