// Topic and ACL administration for `imgpipe setup`: create a topic when it
// is missing, report it when it already exists. Never changes an existing
// topic (partition counts only grow and reshuffle keys; that is a decision
// for a person, not for setup). Grants the pipeline's identities what they
// need and nothing more (ACLs take effect on brokers with an authorizer).
//
// Thread-safety: plain functions; each call opens and closes its own client.
#pragma once

#include <chrono>
#include <string>
#include <vector>

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

enum class AclResource { topic, group };
enum class AclOperation { read, write };

// One "Allow <principal> <operation> on <resource> <name> from any host" ACL.
// Kafka's READ and WRITE imply DESCRIBE.
struct AclGrant {
  std::string principal;  // "User:imgpipe"
  AclResource resource = AclResource::topic;
  std::string name;  // literal, never a prefix or wildcard
  AclOperation operation = AclOperation::read;

  bool operator==(const AclGrant&) const = default;
};

struct PipelineIdentities {
  std::string worker;     // principal the workers log in as ("User:imgpipe")
  std::string publisher;  // principal the object store publishes as; empty: none
  std::string topic;      // the event topic
  std::string dlq_topic;
  std::string group;
};

// What each identity needs: the worker reads the event topic in its group and
// writes the dead-letter topic; the publisher writes the event topic.
std::vector<AclGrant> pipeline_grants(const PipelineIdentities& identities);

// "Allow User:imgpipe to read topic bucket-events".
std::string describe(const AclGrant& grant);

// Adds the ACLs (an ACL that exists already stays one ACL). Fails with
// kafka_error naming the first refused grant, e.g. SECURITY_DISABLED when the
// brokers have no authorizer, or CLUSTER_AUTHORIZATION_FAILED when the
// connection's user may not alter ACLs.
Status grant_acls(const Connection& connection, const std::vector<AclGrant>& grants,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace imgpipe::kafka
