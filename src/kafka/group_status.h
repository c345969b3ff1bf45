// What a consumer group is doing, for `imgpipe status`: its state and
// members (each with the partitions it holds), and per partition of the
// topic the committed offset, the watermarks and the lag. Asks the broker;
// never joins the group and commits nothing.
//
// Thread-safety: a plain function; each call opens and closes its own client.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/connection.h"

namespace imgpipe::kafka {

struct GroupMember {
  std::string member_id;
  std::string client_id;
  std::string host;
  std::vector<std::int32_t> partitions;  // of the topic asked about
};

struct PartitionOffsets {
  std::int32_t partition = 0;
  std::int64_t low = 0;
  std::int64_t high = 0;
  std::int64_t committed = -1;  // -1: the group never committed here
  // What the group has not committed: from the low watermark when it never did.
  std::int64_t lag() const { return high - (committed >= 0 ? committed : low); }
};

struct GroupStatus {
  std::string state;  // Stable, PreparingRebalance, CompletingRebalance, Empty, Dead, Unknown
  std::vector<GroupMember> members;
  std::vector<PartitionOffsets> partitions;
  std::int64_t total_lag() const;
};

// object_missing when `topic` does not exist; timeout or unavailable when
// the brokers do not answer within `timeout`.
Result<GroupStatus> describe_group(const Connection& connection, const std::string& group,
                                   const std::string& topic,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace imgpipe::kafka
