#include "kafka/lag.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace imgpipe::kafka {

std::int64_t ConsumerLag::total() const {
  std::int64_t sum = 0;
  for (const auto& partition : partitions) sum += partition.lag;
  return sum;
}

namespace {

ConsumerLag read_partitions(const nlohmann::json& partitions) {
  ConsumerLag lag;
  for (const auto& [id, state] : partitions.items()) {
    if (!state.is_object()) continue;
    const auto number = state.value("partition", -1);
    const auto high = state.value("hi_offset", std::int64_t{-1});
    if (number < 0 || !state.value("desired", false) || high < 0) continue;
    const auto committed = state.value("committed_offset", std::int64_t{-1});
    const auto low = std::max<std::int64_t>(0, state.value("lo_offset", std::int64_t{0}));
    PartitionLag entry;
    entry.partition = number;
    entry.end_offset = high;
    entry.committed_offset = committed >= 0 ? committed : -1;
    entry.lag = std::max<std::int64_t>(0, high - (committed >= 0 ? committed : low));
    lag.partitions.push_back(entry);
  }
  std::sort(lag.partitions.begin(), lag.partitions.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  return lag;
}

}  // namespace

Result<ConsumerLag> lag_from_statistics(std::string_view statistics, const std::string& topic) {
  const auto json = nlohmann::json::parse(statistics, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("topics")) {
    return make_error(Reason::kafka_error, "not librdkafka statistics");
  }
  const auto& topics = json["topics"];
  if (!topics.is_object() || !topics.contains(topic)) return ConsumerLag{};  // nothing fetched yet
  try {
    return read_partitions(topics[topic].value("partitions", nlohmann::json::object()));
  } catch (const nlohmann::json::exception& error) {
    return make_error(Reason::kafka_error, std::string("librdkafka statistics: ") + error.what());
  }
}

}  // namespace imgpipe::kafka
