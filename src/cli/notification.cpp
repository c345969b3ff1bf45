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

// True when some QueueConfiguration names both `arn` and `event`.
bool already_configured(std::string_view xml, std::string_view arn, std::string_view event) {
  const std::string queue = "<Queue>" + std::string(arn) + "</Queue>";
  const std::string wanted_event = "<Event>" + std::string(event) + "</Event>";
  std::size_t start = 0;
  while ((start = xml.find("<QueueConfiguration>", start)) != std::string_view::npos) {
    const auto end = xml.find("</QueueConfiguration>", start);
    if (end == std::string_view::npos) return false;
    const auto block = xml.substr(start, end - start);
    if (block.find(queue) != std::string_view::npos &&
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
