#include "cli/notification.h"

namespace imgpipe::cli {
namespace {

constexpr std::string_view kNamespace = "http://s3.amazonaws.com/doc/2006-03-01/";

std::string queue_block(std::string_view arn, std::string_view event) {
  std::string block = "<QueueConfiguration><Id>imgpipe</Id><Queue>";
  block += arn;
  block += "</Queue><Event>";
  block += event;
  block += "</Event></QueueConfiguration>";
  return block;
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

std::string_view tag_text(std::string_view block, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const auto start = block.find(open);
  if (start == std::string_view::npos) return {};
  const auto end = block.find(close, start);
  if (end == std::string_view::npos) return {};
  return block.substr(start + open.size(), end - start - open.size());
}

// True when some QueueConfiguration names both `arn` (in any region) and `event`.
bool already_configured(std::string_view xml, std::string_view arn, std::string_view event) {
  const std::string wanted_queue = without_region(arn);
  const std::string wanted_event = "<Event>" + std::string(event) + "</Event>";
  std::size_t start = 0;
  while ((start = xml.find("<QueueConfiguration>", start)) != std::string_view::npos) {
    const auto end = xml.find("</QueueConfiguration>", start);
    if (end == std::string_view::npos) return false;
    const auto block = xml.substr(start, end - start);
    if (without_region(tag_text(block, "Queue")) == wanted_queue &&
        block.find(wanted_event) != std::string_view::npos) {
      return true;
    }
    start = end;
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
