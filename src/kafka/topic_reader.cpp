#include "kafka/topic_reader.h"

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>

#include "kafka/admin.h"
#include "kafka/rdkafka_config.h"

namespace imgpipe::kafka {
namespace {

Error kafka_failure(const std::string& what, RdKafka::ErrorCode code) {
  return make_error(code == RdKafka::ERR__TIMED_OUT ? Reason::timeout : Reason::kafka_error,
                    what + ": " + RdKafka::err2str(code));
}

Result<std::unique_ptr<RdKafka::KafkaConsumer>> open_reader(const Connection& connection) {
  auto properties = connection.client_properties();
  // A group id is required by the client even when partitions are assigned
  // by hand; nothing is committed under it.
  properties["group.id"] = "imgpipe-topic-reader";
  properties["enable.auto.commit"] = "false";
  properties["enable.auto.offset.store"] = "false";
  properties["enable.partition.eof"] = "true";
  auto config = make_config(properties);
  if (!config) return config.error();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(config.value().get(), error));
  if (!consumer) return make_error(Reason::invalid_config, "cannot create Kafka reader: " + error);
  return consumer;
}

}  // namespace

Status read_topic(const Connection& connection, const std::string& topic,
                  const std::function<void(const Message&)>& each,
                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto count = topic_partitions(connection, topic, timeout);
  if (!count) return count.error();
  auto consumer = open_reader(connection);
  if (!consumer) return consumer.error();
  auto& reader = *consumer.value();

  // The end of each partition now: what is produced later is not read.
  std::map<int, std::int64_t> end;
  PartitionList assignment;
  for (int partition = 0; partition < count.value(); ++partition) {
    std::int64_t low = 0, high = 0;
    const auto code = reader.query_watermark_offsets(topic, partition, &low, &high,
                                                     static_cast<int>(timeout.count()));
    if (code != RdKafka::ERR_NO_ERROR) return kafka_failure("offsets of " + topic, code);
    if (high <= low) continue;
    end[partition] = high;
    assignment.items.push_back(RdKafka::TopicPartition::create(topic, partition, low));
  }
  if (end.empty()) return ok_status();
  if (const auto code = reader.assign(assignment.items); code != RdKafka::ERR_NO_ERROR) {
    return kafka_failure("assign " + topic, code);
  }
  Status outcome = ok_status();
  while (!end.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      outcome = make_error(Reason::timeout, "reading " + topic + " did not reach its end");
      break;
    }
    std::unique_ptr<RdKafka::Message> record(reader.consume(200));
    if (record->err() == RdKafka::ERR__TIMED_OUT) continue;
    if (record->err() == RdKafka::ERR__PARTITION_EOF) {
      end.erase(record->partition());
      continue;
    }
    if (record->err() != RdKafka::ERR_NO_ERROR) {
      outcome = kafka_failure("read " + topic, record->err());
      break;
    }
    const auto stop_at = end.find(record->partition());
    if (stop_at == end.end()) continue;
    each(to_message(*record));
    if (record->offset() + 1 >= stop_at->second) end.erase(stop_at);
  }
  reader.close();
  return outcome;
}

}  // namespace imgpipe::kafka
