// Topic administration for `imgpipe setup`: create a topic when it is
// missing, report it when it already exists. Never changes an existing
// topic (partition counts only grow and reshuffle keys; that is a decision
// for a person, not for setup).
//
// Thread-safety: plain function; each call opens and closes its own client.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"
#include "kafka/connection.h"

namespace imgpipe::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 6;
  int replication_factor = 1;
};

struct TopicState {
  bool created = false;  // false: it existed already
  int partitions = 0;    // as it is on the broker now
};

Result<TopicState> ensure_topic(const Connection& connection, const TopicSpec& spec,
                                std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Number of partitions of `topic`, or object_missing when it does not exist.
Result<int> topic_partitions(const Connection& connection, const std::string& topic,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace imgpipe::kafka
