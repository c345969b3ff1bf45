#include "kafka/group_status.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <memory>

#include "kafka/admin.h"
#include "kafka/rdkafka_config.h"

namespace imgpipe::kafka {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* pointer) const {
    if (pointer != nullptr) Free(pointer);
  }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, Deleter<rd_kafka_queue_t, rd_kafka_queue_destroy>>;
using AdminOptions =
    std::unique_ptr<rd_kafka_AdminOptions_t,
                    Deleter<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>>;
using Event = std::unique_ptr<rd_kafka_event_t, Deleter<rd_kafka_event_t, rd_kafka_event_destroy>>;

Error kafka_failure(const std::string& what, RdKafka::ErrorCode code) {
  return make_error(code == RdKafka::ERR__TIMED_OUT ? Reason::timeout : Reason::kafka_error,
                    what + ": " + RdKafka::err2str(code));
}

Result<std::unique_ptr<RdKafka::KafkaConsumer>> open_client(const Connection& connection,
                                                            const std::string& group) {
  auto properties = connection.client_properties();
  properties["group.id"] = group;  // for committed(); the client never subscribes
  properties["enable.auto.commit"] = "false";
  auto config = make_config(properties);
  if (!config) return config.error();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(config.value().get(), error));
  if (!consumer) return make_error(Reason::invalid_config, "cannot create Kafka client: " + error);
  return consumer;
}

GroupMember read_member(const rd_kafka_MemberDescription_t* member, const std::string& topic) {
  GroupMember out;
  out.member_id = rd_kafka_MemberDescription_consumer_id(member);
  out.client_id = rd_kafka_MemberDescription_client_id(member);
  out.host = rd_kafka_MemberDescription_host(member);
  const auto* assignment = rd_kafka_MemberDescription_assignment(member);
  const auto* partitions = assignment ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
  for (int i = 0; partitions != nullptr && i < partitions->cnt; ++i) {
    if (topic == partitions->elems[i].topic)
      out.partitions.push_back(partitions->elems[i].partition);
  }
  return out;
}

// State and members through the Admin API (DescribeConsumerGroups).
Status describe_members(RdKafka::KafkaConsumer& client, const std::string& group,
                        const std::string& topic, std::chrono::milliseconds timeout,
                        GroupStatus& status) {
  rd_kafka_t* handle = client.c_ptr();
  Queue queue(rd_kafka_queue_new(handle));
  AdminOptions options(rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS));
  char error[256] = {};
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), error,
                                            sizeof error);
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(handle, groups, 1, options.get(), queue.get());
  Event event(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 1000));
  if (!event) return make_error(Reason::timeout, "describe group " + group + ": no answer");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(Reason::kafka_error, std::string("describe group ") + group + ": " +
                                               rd_kafka_event_error_string(event.get()));
  }
  const auto* result = rd_kafka_event_DescribeConsumerGroups_result(event.get());
  size_t count = 0;
  const auto** descriptions = rd_kafka_DescribeConsumerGroups_result_groups(result, &count);
  if (count != 1) return make_error(Reason::kafka_error, "describe group " + group + ": no answer");
  const auto* description = descriptions[0];
  if (const rd_kafka_error_t* failed = rd_kafka_ConsumerGroupDescription_error(description)) {
    return make_error(Reason::kafka_error,
                      "describe group " + group + ": " + rd_kafka_error_string(failed));
  }
  status.state =
      rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(description));
  const size_t members = rd_kafka_ConsumerGroupDescription_member_count(description);
  for (size_t i = 0; i < members; ++i) {
    status.members.push_back(
        read_member(rd_kafka_ConsumerGroupDescription_member(description, i), topic));
  }
  return ok_status();
}

// Watermarks and the group's committed offsets, partition by partition.
Status read_offsets(RdKafka::KafkaConsumer& client, const std::string& topic, int partitions,
                    std::chrono::milliseconds timeout, GroupStatus& status) {
  PartitionList committed;
  for (int partition = 0; partition < partitions; ++partition) {
    PartitionOffsets offsets;
    offsets.partition = partition;
    const auto code = client.query_watermark_offsets(topic, partition, &offsets.low, &offsets.high,
                                                     static_cast<int>(timeout.count()));
    if (code != RdKafka::ERR_NO_ERROR) return kafka_failure("offsets of " + topic, code);
    status.partitions.push_back(offsets);
    committed.items.push_back(RdKafka::TopicPartition::create(topic, partition));
  }
  const auto code = client.committed(committed.items, static_cast<int>(timeout.count()));
  if (code != RdKafka::ERR_NO_ERROR) return kafka_failure("committed offsets", code);
  for (const auto* item : committed.items) {
    if (item->partition() >= 0 && item->partition() < partitions && item->offset() >= 0) {
      status.partitions[static_cast<std::size_t>(item->partition())].committed = item->offset();
    }
  }
  return ok_status();
}

}  // namespace

std::int64_t GroupStatus::total_lag() const {
  std::int64_t total = 0;
  for (const auto& partition : partitions) total += partition.lag();
  return total;
}

Result<GroupStatus> describe_group(const Connection& connection, const std::string& group,
                                   const std::string& topic, std::chrono::milliseconds timeout) {
  auto partitions = topic_partitions(connection, topic, timeout);
  if (!partitions) return partitions.error();
  auto client = open_client(connection, group);
  if (!client) return client.error();
  GroupStatus status;
  if (auto offsets = read_offsets(*client.value(), topic, partitions.value(), timeout, status);
      !offsets) {
    return offsets.error();
  }
  if (auto members = describe_members(*client.value(), group, topic, timeout, status); !members) {
    return members.error();
  }
  client.value()->close();
  return status;
}

}  // namespace imgpipe::kafka
