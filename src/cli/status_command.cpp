// `imgpipe status`: one screen for a person (or JSON for a script) on what
// the workers of this configuration are doing, from Kafka and, when given,
// from the workers' own /metrics.
#include <httplib.h>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/wiring.h"
#include "kafka/group_status.h"
#include "kafka/topic_reader.h"
#include "observe/log.h"
#include "pipeline/dead_letter.h"

namespace imgpipe::cli {
namespace {

using Json = nlohmann::ordered_json;

Json group_json(const kafka::GroupStatus& group) {
  Json members = Json::array();
  for (const auto& member : group.members) {
    members.push_back({{"member_id", member.member_id},
                       {"client_id", member.client_id},
                       {"host", member.host},
                       {"partitions", member.partitions}});
  }
  Json partitions = Json::array();
  for (const auto& partition : group.partitions) {
    partitions.push_back({{"partition", partition.partition},
                          {"committed", partition.committed},
                          {"end", partition.high},
                          {"lag", partition.lag()}});
  }
  return {{"state", group.state},
          {"members", members},
          {"partitions", partitions},
          {"total_lag", group.total_lag()}};
}

// Dead letters by reason; an empty map when the topic does not exist yet.
Result<std::map<std::string, int>> dead_letters_by_reason(const pipeline::Config& config) {
  std::map<std::string, int> counts;
  auto read = kafka::read_topic(kafka_connection(config), config.effective_dlq_topic(),
                                [&](const kafka::Message& message) {
                                  auto record = pipeline::parse_dead_letter(message);
                                  ++counts[record ? record->reason : "unreadable"];
                                });
  if (!read && read.error().reason != Reason::object_missing) return read.error();
  return counts;
}

// Samples of one /metrics page: "name{labels}" -> value.
std::map<std::string, double> scrape(const std::string& endpoint, std::string& error) {
  static const std::regex address(R"(^(?:http://)?([^/:]+):(\d+)(/.*)?$)");
  std::smatch parts;
  if (!std::regex_match(endpoint, parts, address)) {
    error = "not host:port or http://host:port/metrics";
    return {};
  }
  httplib::Client client(parts[1].str(), std::stoi(parts[2].str()));
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  const auto response = client.Get(parts[3].matched ? parts[3].str() : "/metrics");
  if (!response || response->status != 200) {
    error = response ? "HTTP " + std::to_string(response->status) : "no answer";
    return {};
  }
  std::map<std::string, double> samples;
  std::istringstream lines(response->body);
  for (std::string line; std::getline(lines, line);) {
    const auto space = line.rfind(' ');
    if (line.empty() || line[0] == '#' || space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return samples;
}

// What one worker does now: two scrapes a second apart give the rate.
Json worker_json(const std::string& endpoint) {
  std::string error;
  const auto before = scrape(endpoint, error);
  if (!error.empty()) return {{"endpoint", endpoint}, {"error", error}};
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto after = scrape(endpoint, error);
  if (!error.empty()) return {{"endpoint", endpoint}, {"error", error}};
  const auto value = [&](const std::string& name) {
    const auto it = after.find(name);
    return it == after.end() ? 0.0 : it->second;
  };
  const std::string processed = "imgpipe_objects_processed_total";
  Json failed = Json::object();
  const std::string prefix = "imgpipe_objects_failed_total{reason=\"";
  for (const auto& [series, count] : after) {
    if (series.starts_with(prefix) && count > 0) {
      failed[series.substr(prefix.size(), series.size() - prefix.size() - 2)] = count;
    }
  }
  const auto earlier = before.find(processed);
  return {{"endpoint", endpoint},
          {"ready", value("imgpipe_ready") == 1},
          {"processed", value(processed)},
          {"per_second", value(processed) - (earlier == before.end() ? 0.0 : earlier->second)},
          {"in_flight", value("imgpipe_in_flight")},
          {"lag", value("imgpipe_consumer_lag")},
          {"failed_by_reason", failed}};
}

void print_text(const pipeline::Config& config, const Json& status) {
  const auto& group = status["group"];
  std::cout << "group " << config.kafka.group << " on " << config.kafka.topic << ": "
            << group["state"].get<std::string>() << ", " << group["members"].size()
            << " member(s)\n";
  for (const auto& member : group["members"]) {
    std::cout << "  " << member["client_id"].get<std::string>() << " ("
              << member["host"].get<std::string>() << ") partitions " << member["partitions"].dump()
              << '\n';
  }
  std::cout << std::left << std::setw(12) << "partition" << std::setw(14) << "committed"
            << std::setw(14) << "end"
            << "lag\n";
  for (const auto& partition : group["partitions"]) {
    const auto committed = partition["committed"].get<std::int64_t>();
    std::cout << std::setw(12) << partition["partition"].get<int>() << std::setw(14)
              << (committed >= 0 ? std::to_string(committed) : "-") << std::setw(14)
              << partition["end"].get<std::int64_t>() << partition["lag"].get<std::int64_t>()
              << '\n';
  }
  std::cout << "total lag " << group["total_lag"].get<std::int64_t>() << '\n';
  std::cout << "dead letters in " << config.effective_dlq_topic() << ": "
            << status["dead_letters"]["total"].get<int>();
  for (const auto& [reason, count] : status["dead_letters"]["by_reason"].items()) {
    std::cout << (reason == status["dead_letters"]["by_reason"].begin().key() ? " (" : ", ")
              << reason << ' ' << count.get<int>();
  }
  std::cout << (status["dead_letters"]["by_reason"].empty() ? "\n" : ")\n");
  for (const auto& worker : status["workers"]) {
    std::cout << "worker " << worker["endpoint"].get<std::string>() << ": ";
    if (worker.contains("error")) {
      std::cout << "unreachable (" << worker["error"].get<std::string>() << ")\n";
      continue;
    }
    std::cout << (worker["ready"].get<bool>() ? "ready" : "NOT ready") << ", processed "
              << worker["processed"].get<double>() << " (" << worker["per_second"].get<double>()
              << "/s), in flight " << worker["in_flight"].get<double>() << ", failed "
              << worker["failed_by_reason"].dump() << '\n';
  }
}

}  // namespace

int run_status(const CommonOptions& common, const StatusOptions& options) {
  observe::init_logging(spdlog::level::off, false);
  auto config = load_or_report(common);
  if (!config) return 2;
  auto group =
      kafka::describe_group(kafka_connection(*config), config->kafka.group, config->kafka.topic);
  if (!group) {
    std::cerr << "imgpipe status: Kafka at " << config->kafka.brokers << ": "
              << reason_name(group.error().reason) << ": " << group.error().message << '\n';
    return 1;
  }
  auto dead_letters = dead_letters_by_reason(*config);
  if (!dead_letters) {
    std::cerr << "imgpipe status: dead-letter topic: " << reason_name(dead_letters.error().reason)
              << ": " << dead_letters.error().message << '\n';
    return 1;
  }
  int total = 0;
  for (const auto& [reason, count] : dead_letters.value()) total += count;
  Json workers = Json::array();
  for (const auto& endpoint : options.metrics) workers.push_back(worker_json(endpoint));
  const Json status = {{"group", group_json(group.value())},
                       {"dead_letters", {{"total", total}, {"by_reason", dead_letters.value()}}},
                       {"workers", workers}};
  if (options.json) {
    std::cout << status.dump() << '\n';
  } else {
    print_text(*config, status);
  }
  return 0;
}

}  // namespace imgpipe::cli
