#include <charconv>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/dlq.h"
#include "cli/wiring.h"
#include "kafka/producer.h"
#include "kafka/topic_reader.h"
#include "observe/log.h"
#include "pipeline/dead_letter.h"

namespace imgpipe::cli {
namespace {

// Every dead letter of the configured topic that `filter` selects.
Result<std::vector<pipeline::DeadLetterRecord>> read_dead_letters(
    const pipeline::Config& config, const pipeline::DeadLetterFilter& filter, int& unreadable) {
  std::vector<pipeline::DeadLetterRecord> records;
  auto read = kafka::read_topic(kafka_connection(config), config.effective_dlq_topic(),
                                [&](const kafka::Message& message) {
                                  auto record = pipeline::parse_dead_letter(message);
                                  if (!record) {
                                    ++unreadable;
                                    return;
                                  }
                                  if (pipeline::selected(*record, filter)) {
                                    records.push_back(std::move(record).value());
                                  }
                                });
  if (!read) return read.error();
  return records;
}

nlohmann::ordered_json as_json(const pipeline::DeadLetterRecord& record) {
  return {{"dlq_partition", record.at.partition},
          {"dlq_offset", record.at_offset},
          {"dead_lettered", record.dead_lettered_ms >= 0
                                ? pipeline::format_utc(std::chrono::system_clock::time_point(
                                      std::chrono::milliseconds(record.dead_lettered_ms)))
                                : ""},
          {"reason", record.reason},
          {"message", record.message},
          {"attempts", record.attempts},
          {"first_failure", record.first_failure},
          {"worker", record.worker},
          {"topic", record.topic},
          {"partition", record.partition},
          {"offset", record.offset},
          {"key", record.key},
          {"value", record.value}};
}

std::string shortened(const std::string& text, std::size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 3) + "...";
}

void print_table(const std::vector<pipeline::DeadLetterRecord>& records) {
  std::cout << std::left << std::setw(26) << "dead-lettered" << std::setw(22) << "reason"
            << std::setw(9) << "attempts" << std::setw(24) << "from" << std::setw(40) << "key"
            << "message\n";
  for (const auto& record : records) {
    const std::string from = record.topic + "[" + std::to_string(record.partition) + "]@" +
                             std::to_string(record.offset);
    std::cout << std::setw(26) << as_json(record)["dead_lettered"].get<std::string>()
              << std::setw(22) << record.reason << std::setw(9) << record.attempts << std::setw(24)
              << from << std::setw(40) << shortened(record.key, 38) << shortened(record.message, 80)
              << '\n';
  }
}

struct Selection {
  pipeline::Config config;
  std::vector<pipeline::DeadLetterRecord> records;
};

// The configuration and the dead letters `options` select; nullopt after
// saying why, with `exit_code` 2 (configuration, usage) or 1 (Kafka).
std::optional<Selection> select(const CommonOptions& common, const DlqOptions& options,
                                const char* command, int& exit_code) {
  observe::init_logging(spdlog::level::warn, false);
  exit_code = 2;
  auto config = load_or_report(common);
  if (!config) return std::nullopt;
  pipeline::DeadLetterFilter filter{options.reason, options.key_prefix, -1};
  if (!options.since.empty()) {
    auto since = parse_since(options.since, std::chrono::system_clock::now());
    if (!since) {
      std::cerr << command << ": " << since.error().message << '\n';
      return std::nullopt;
    }
    filter.since_ms = since.value();
  }
  int unreadable = 0;
  auto records = read_dead_letters(config.value(), filter, unreadable);
  if (unreadable > 0) {
    std::cerr << unreadable << " records without imgpipe's headers were left out\n";
  }
  if (!records) {
    std::cerr << command << ": " << records.error().message << '\n';
    exit_code = 1;
    return std::nullopt;
  }
  return Selection{std::move(config).value(), std::move(records).value()};
}

}  // namespace

int run_dlq_list(const CommonOptions& common, const DlqOptions& options) {
  int exit_code = 0;
  auto selection = select(common, options, "imgpipe dlq list", exit_code);
  if (!selection) return exit_code;
  if (options.json) {
    for (const auto& record : selection->records) std::cout << as_json(record).dump() << '\n';
  } else {
    print_table(selection->records);
    std::cout << selection->records.size() << " dead letters in "
              << selection->config.effective_dlq_topic() << '\n';
  }
  return 0;
}

int run_dlq_replay(const CommonOptions& common, const DlqOptions& options) {
  int exit_code = 0;
  auto selection = select(common, options, "imgpipe dlq replay", exit_code);
  if (!selection) return exit_code;
  const auto& records = selection->records;
  const std::string& topic = selection->config.kafka.topic;
  if (options.dry_run) {
    std::cout << "would replay " << records.size() << " dead letters to " << topic << '\n';
    return 0;
  }
  auto producer = kafka::Producer::create(kafka_connection(selection->config));
  if (!producer) {
    std::cerr << "imgpipe dlq replay: " << producer.error().message << '\n';
    return 1;
  }
  std::size_t replayed = 0;
  for (const auto& record : records) {
    const kafka::Headers headers = {
        {"imgpipe.replayed_from", selection->config.effective_dlq_topic() + "[" +
                                      std::to_string(record.at.partition) + "]@" +
                                      std::to_string(record.at_offset)}};
    auto sent = producer.value()->produce(topic, record.key, record.value, headers);
    if (!sent) {
      std::cerr << "imgpipe dlq replay: stopped after " << replayed << ": " << sent.error().message
                << '\n';
      return 1;
    }
    ++replayed;
  }
  std::cout << "replayed " << replayed << " dead letters to " << topic << '\n';
  return 0;
}

}  // namespace imgpipe::cli
