// Glue to librdkafka's C++ API shared inside src/kafka: an RdKafka::Conf
// from a property map (reporting the first property librdkafka rejects), an
// owned partition list, and a record turned into a kafka::Message. Internal to src/kafka.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/consumer.h"

namespace imgpipe::kafka {

// The Conf also routes librdkafka's own log lines and errors into spdlog
// (JSON lines like the rest of imgpipe's log) instead of raw text on stderr.
Result<std::unique_ptr<RdKafka::Conf>> make_config(
    const std::map<std::string, std::string>& properties);

// One librdkafka log line (syslog level 0-7) as a log line of imgpipe's.
void log_librdkafka_line(int syslog_level, const std::string& facility, const std::string& text);

// The shared handler of librdkafka's log and error events that make_config
// installs; a client with its own event_cb passes those events on to it.
RdKafka::EventCb& log_events();

// Owns the TopicPartition objects of a librdkafka partition list.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> items;
  PartitionList() = default;
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
};

// Copies key, payload, timestamp and headers of a record without an error.
Message to_message(RdKafka::Message& record);  // headers() is not const

}  // namespace imgpipe::kafka
