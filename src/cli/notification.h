// Bucket notification XML for `imgpipe setup`: adds imgpipe's queue target to
// whatever configuration the bucket already has, so that setup never drops a
// rule someone else put there.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace imgpipe::cli {

// Returns the configuration with a QueueConfiguration sending `event` to
// `arn` added, or nullopt when `existing` already sends that event there.
std::optional<std::string> add_queue_notification(std::string_view existing, std::string_view arn,
                                                  std::string_view event);

}  // namespace imgpipe::cli
