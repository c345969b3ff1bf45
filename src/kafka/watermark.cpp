#include "kafka/watermark.h"

namespace imgpipe::kafka {

void OffsetWatermark::assign(const TopicPartition& partition) {
  partitions_[partition] = PartitionState{next_epoch_++, {}};
}

void OffsetWatermark::revoke(const TopicPartition& partition) {
  partitions_.erase(partition);
}

std::optional<Ticket> OffsetWatermark::begin(const TopicPartition& partition, std::int64_t offset) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return std::nullopt;
  it->second.pending.emplace(offset, false);
  return Ticket{partition, offset, it->second.epoch};
}

std::optional<std::int64_t> OffsetWatermark::complete(const Ticket& ticket) {
  auto it = partitions_.find(ticket.partition);
  if (it == partitions_.end() || it->second.epoch != ticket.epoch) return std::nullopt;
  auto& pending = it->second.pending;
  auto entry = pending.find(ticket.offset);
  if (entry == pending.end()) return std::nullopt;
  entry->second = true;

  std::optional<std::int64_t> committable;
  while (!pending.empty() && pending.begin()->second) {
    committable = pending.begin()->first + 1;
    pending.erase(pending.begin());
  }
  return committable;
}

std::size_t OffsetWatermark::in_flight(const TopicPartition& partition) const {
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? 0 : it->second.pending.size();
}

std::size_t OffsetWatermark::in_flight_total() const {
  std::size_t total = 0;
  for (const auto& [partition, state] : partitions_) total += state.pending.size();
  return total;
}

std::vector<TopicPartition> OffsetWatermark::assigned() const {
  std::vector<TopicPartition> out;
  out.reserve(partitions_.size());
  for (const auto& [partition, state] : partitions_) out.push_back(partition);
  return out;
}

}  // namespace imgpipe::kafka
