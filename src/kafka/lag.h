// Consumer lag read from librdkafka's statistics (statistics.interval.ms),
// so that a worker can export it without extra requests to the broker.
//
// For each partition of the topic that this member is assigned ("desired" in
// the statistics), lag is the high watermark minus the group's committed
// offset: what the group has not finished yet, as a Kafka operator counts
// it. A partition the group never committed counts from its low watermark
// (imgpipe starts such a partition at the earliest record). Partitions whose
// high watermark is not known yet are left out.
//
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace imgpipe::kafka {

struct PartitionLag {
  std::int32_t partition = 0;
  std::int64_t end_offset = 0;         // the high watermark
  std::int64_t committed_offset = -1;  // -1 when the group has committed nothing
  std::int64_t lag = 0;
};

struct ConsumerLag {
  std::vector<PartitionLag> partitions;  // by partition number
  std::int64_t total() const;
};

// kafka_error when `statistics` is not librdkafka's statistics JSON.
Result<ConsumerLag> lag_from_statistics(std::string_view statistics, const std::string& topic);

}  // namespace imgpipe::kafka
