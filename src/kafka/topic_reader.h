// Reads a whole topic once, outside any consumer group: every record from
// the start of each partition up to its end as it was when reading began.
// Used by `imgpipe dlq list|replay`; commits nothing, joins no group.
//
// Thread-safety: a plain function; each call opens and closes its own client.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"
#include "kafka/connection.h"
#include "kafka/consumer.h"

namespace imgpipe::kafka {

// Calls `each` for every record, partition by partition in offset order
// (partitions interleaved). object_missing when the topic does not exist;
// timeout when the end was not reached within `timeout`.
Status read_topic(const Connection& connection, const std::string& topic,
                  const std::function<void(const Message&)>& each,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace imgpipe::kafka
