#include "kafka/admin.h"

#include <librdkafka/rdkafka.h>

#include <array>
#include <memory>

#include "kafka/rdkafka_config.h"

namespace imgpipe::kafka {
namespace {

struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* topic) const { rd_kafka_NewTopic_destroy(topic); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};
struct AclBindingDeleter {
  void operator()(rd_kafka_AclBinding_t* binding) const { rd_kafka_AclBinding_destroy(binding); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using AclBinding = std::unique_ptr<rd_kafka_AclBinding_t, AclBindingDeleter>;

// Through imgpipe's log like the C++ clients' lines, not raw on stderr.
void log_line(const rd_kafka_t* /*handle*/, int level, const char* facility, const char* text) {
  log_librdkafka_line(level, facility, text);
}

Result<Handle> open_client(const Connection& connection) {
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_line);
  for (const auto& [name, value] : connection.client_properties()) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(Reason::invalid_config, "kafka property " + name + ": " + error.data());
    }
  }
  // rd_kafka_new takes ownership of conf on success only.
  Handle handle(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size()));
  if (!handle) {
    rd_kafka_conf_destroy(conf);
    return make_error(Reason::invalid_config, std::string("kafka client: ") + error.data());
  }
  return handle;
}

Result<int> partitions_of(rd_kafka_t* handle, const std::string& topic,
                          std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  const auto code = rd_kafka_metadata(handle, 1, nullptr, &raw, static_cast<int>(timeout.count()));
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(code == RD_KAFKA_RESP_ERR__TIMED_OUT || code == RD_KAFKA_RESP_ERR__TRANSPORT
                          ? Reason::unavailable
                          : Reason::kafka_error,
                      std::string("kafka metadata: ") + rd_kafka_err2str(code));
  }
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> metadata(raw);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& entry = metadata->topics[i];
    // A topic that was just created may still report LEADER_NOT_AVAILABLE: it exists.
    if (topic == entry.topic && entry.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return entry.partition_cnt;
    }
  }
  return make_error(Reason::object_missing, "topic " + topic + " does not exist");
}

// Returns true when it created the topic, false when it existed already.
Result<bool> create_topic(rd_kafka_t* handle, const TopicSpec& spec,
                          std::chrono::milliseconds timeout) {
  std::array<char, 512> error{};
  std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter> topic(rd_kafka_NewTopic_new(
      spec.name.c_str(), spec.partitions, spec.replication_factor, error.data(), error.size()));
  if (!topic) return make_error(Reason::invalid_config, std::string("topic spec: ") + error.data());

  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(handle));
  std::array<rd_kafka_NewTopic_t*, 1> topics{topic.get()};
  rd_kafka_CreateTopics(handle, topics.data(), topics.size(), nullptr, queue.get());
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(
      rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count())));
  if (!event) return make_error(Reason::timeout, "create topic " + spec.name + " timed out");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(Reason::kafka_error,
                      std::string("create topic: ") + rd_kafka_event_error_string(event.get()));
  }
  bool created = true;
  size_t count = 0;
  const auto* result = rd_kafka_event_CreateTopics_result(event.get());
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    const auto code = rd_kafka_topic_result_error(results[i]);
    if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) created = false;
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      return make_error(Reason::kafka_error,
                        "create topic " + spec.name + ": " +
                            (message != nullptr ? message : rd_kafka_err2str(code)));
    }
  }
  return created;
}

Result<AclBinding> make_binding(const AclGrant& grant) {
  std::array<char, 512> error{};
  AclBinding binding(rd_kafka_AclBinding_new(
      grant.resource == AclResource::topic ? RD_KAFKA_RESOURCE_TOPIC : RD_KAFKA_RESOURCE_GROUP,
      grant.name.c_str(), RD_KAFKA_RESOURCE_PATTERN_LITERAL, grant.principal.c_str(), "*",
      grant.operation == AclOperation::read ? RD_KAFKA_ACL_OPERATION_READ
                                            : RD_KAFKA_ACL_OPERATION_WRITE,
      RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, error.data(), error.size()));
  if (!binding) {
    return make_error(Reason::invalid_config, describe(grant) + ": " + error.data());
  }
  return binding;
}

// The first refused grant of a CreateAcls answer, if any.
Status first_refusal(rd_kafka_event_t* event, const std::vector<AclGrant>& grants) {
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(Reason::kafka_error,
                      std::string("create ACLs: ") + rd_kafka_event_error_string(event));
  }
  size_t count = 0;
  const auto* result = rd_kafka_event_CreateAcls_result(event);
  const rd_kafka_acl_result_t** results = rd_kafka_CreateAcls_result_acls(result, &count);
  for (size_t i = 0; i < count && i < grants.size(); ++i) {
    const rd_kafka_error_t* error = rd_kafka_acl_result_error(results[i]);
    if (error == nullptr || rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    return make_error(Reason::kafka_error, describe(grants[i]) + ": " + rd_kafka_error_name(error) +
                                               ": " + rd_kafka_error_string(error));
  }
  return ok_status();
}

}  // namespace

std::vector<AclGrant> pipeline_grants(const PipelineIdentities& identities) {
  std::vector<AclGrant> grants = {
      {identities.worker, AclResource::topic, identities.topic, AclOperation::read},
      {identities.worker, AclResource::group, identities.group, AclOperation::read},
      {identities.worker, AclResource::topic, identities.dlq_topic, AclOperation::write},
  };
  if (!identities.publisher.empty()) {
    grants.push_back(
        {identities.publisher, AclResource::topic, identities.topic, AclOperation::write});
  }
  return grants;
}

std::string describe(const AclGrant& grant) {
  return "allow " + grant.principal + " to " +
         (grant.operation == AclOperation::read ? "read" : "write") + " " +
         (grant.resource == AclResource::topic ? "topic " : "group ") + grant.name;
}

Status grant_acls(const Connection& connection, const std::vector<AclGrant>& grants,
                  std::chrono::milliseconds timeout) {
  if (grants.empty()) return ok_status();
  std::vector<AclBinding> owned;
  std::vector<rd_kafka_AclBinding_t*> bindings;
  for (const auto& grant : grants) {
    auto binding = make_binding(grant);
    if (!binding) return binding.error();
    bindings.push_back(binding->get());
    owned.push_back(std::move(binding).value());
  }
  auto handle = open_client(connection);
  if (!handle) return handle.error();
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(handle->get()));
  rd_kafka_CreateAcls(handle->get(), bindings.data(), bindings.size(), nullptr, queue.get());
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(
      rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count())));
  if (!event) return make_error(Reason::timeout, "create ACLs timed out");
  return first_refusal(event.get(), grants);
}

Result<int> topic_partitions(const Connection& connection, const std::string& topic,
                             std::chrono::milliseconds timeout) {
  auto handle = open_client(connection);
  if (!handle) return handle.error();
  return partitions_of(handle->get(), topic, timeout);
}

Result<TopicState> ensure_topic(const Connection& connection, const TopicSpec& spec,
                                std::chrono::milliseconds timeout) {
  auto handle = open_client(connection);
  if (!handle) return handle.error();
  auto existing = partitions_of(handle->get(), spec.name, timeout);
  if (existing) return TopicState{false, existing.value()};
  if (existing.error().reason != Reason::object_missing) return existing.error();

  auto created = create_topic(handle->get(), spec, timeout);
  if (!created) return created.error();
  if (!created.value()) {
    auto partitions = partitions_of(handle->get(), spec.name, timeout);
    return TopicState{false, partitions.ok() ? partitions.value() : 0};
  }
  return TopicState{true, spec.partitions};
}

}  // namespace imgpipe::kafka
