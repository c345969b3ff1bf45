// OffsetWatermark: which offset may be committed when messages of one
// partition finish out of order.
//
// librdkafka commits whatever offset was stored and tracks no gaps. With
// several images in flight, offset 12 can finish before 10; storing 13 then
// would lose 10 and 11 on a crash. The tracker keeps, per partition, the
// offsets handed out in order and reports the highest *contiguous* completed
// offset + 1 — the only safe value to store.
//
// Each assignment of a partition gets a new epoch, so a late completion from
// an earlier assignment (after a lost partition) is ignored rather than
// mistaken for the same offset delivered again.
//
// Thread-safety: none; the consumer thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace imgpipe::kafka {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
};

struct Ticket {
  TopicPartition partition;
  std::int64_t offset = 0;
  std::uint64_t epoch = 0;
};

class OffsetWatermark {
 public:
  // Starts tracking a (re)assigned partition under a new epoch.
  void assign(const TopicPartition& partition);
  // Forgets a partition; completions of its outstanding tickets are ignored.
  void revoke(const TopicPartition& partition);

  // Records that `offset` was handed to a worker. Offsets of one partition
  // must arrive in increasing order (Kafka delivers them so). Returns nullopt
  // for a partition that is not assigned.
  std::optional<Ticket> begin(const TopicPartition& partition, std::int64_t offset);

  // Marks a ticket done. Returns the new committable offset (last contiguous
  // done + 1) when it advanced, nullopt otherwise (gap below, stale epoch,
  // unknown partition).
  std::optional<std::int64_t> complete(const Ticket& ticket);

  std::size_t in_flight(const TopicPartition& partition) const;
  std::size_t in_flight_total() const;
  std::vector<TopicPartition> assigned() const;

 private:
  struct PartitionState {
    std::uint64_t epoch = 0;
    std::map<std::int64_t, bool> pending;  // offset -> done, ordered
  };
  std::map<TopicPartition, PartitionState> partitions_;
  std::uint64_t next_epoch_ = 1;
};

}  // namespace imgpipe::kafka
