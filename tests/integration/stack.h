// Access to the local stack for integration tests: its settings from the
// environment written by `make stack-up` (.stack/env), and small helpers to
// reach Kafka and the worker's HTTP port. A missing setting fails the test:
// integration tests always run against the real stack.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kafka/connection.h"
#include "s3/client.h"

namespace imgpipe::integration {

std::string required_env(const char* name);
// NAME's value, or the first line of the file NAME_FILE names; "" when neither is set.
std::string env_or_file(const std::string& name);

// What tests act as to upload, read back and administer: the stack's admin
// users where its env file names them (IMGPIPE_SETUP_*: the secure stack),
// else the worker's credentials (the plain stack has one root user).
s3::ClientOptions stack_s3_options();
// The worker's own S3 identity (IMGPIPE_S3_ACCESS_KEY, IMGPIPE_S3_SECRET_KEY[_FILE]).
s3::ClientOptions worker_s3_options();
std::string stack_brokers();
// librdkafka's TLS and SASL properties of the stack, from the IMGPIPE_KAFKA_*
// variables its env file sets (none on the plain stack), as the Kafka admin
// user where the env file names one (IMGPIPE_SETUP_KAFKA_ADMIN_*).
std::map<std::string, std::string> stack_kafka_security();
// The same as the worker's user (kafka.sasl_username).
std::map<std::string, std::string> worker_kafka_security();
// The stack's brokers with stack_kafka_security().
kafka::Connection stack_kafka();
void set_stack_security(RdKafka::Conf& conf);
std::string stack_topic();
// The stack's S3 server: "minio" or "versitygw" (STACK_S3 of stack.sh).
std::string stack_s3_server();

// The environment a worker or setup process needs, for the given buckets.
std::map<std::string, std::string> worker_env(const std::string& source_bucket,
                                              const std::string& target_bucket,
                                              const std::string& group, int http_port);

// A name unique to this test run, usable as bucket name or group id.
std::string unique_name(const std::string& prefix);

// Objects a test uploaded before its worker's group starts.
struct PriorUploads {
  std::string bucket;
  int objects = 0;
};

// Commits the current end of every partition of `topic` for `group`, so that
// a worker joining that group starts with what is produced from now on.
// versitygw publishes every upload's event by itself, from a goroutine, after
// the PUT has answered: with `prior` given, on versitygw it first waits (up to
// 3 minutes) until the topic holds an event for each of those objects, so that
// none lands behind the committed end. Retries Kafka's retriable errors (see
// retry_kafka).
void start_group_at_end(const std::string& group, const PriorUploads& prior = {});

// The records of the event topic that name `bucket` (one per message), in
// partition order; nullopt when the topic could not be read.
std::optional<std::vector<std::string>> records_naming_bucket(const std::string& bucket);

// Errors a broker returns while it is still getting ready (group coordinator
// not known or still loading, no partition leader yet) or a request that
// timed out: worth trying again.
bool is_retriable_kafka_error(RdKafka::ErrorCode error);

// Runs `call` until it returns no error or an error that is not retriable, or
// `timeout` has passed; returns the last result.
RdKafka::ErrorCode retry_kafka(const std::function<RdKafka::ErrorCode()>& call,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// What a worker does first: join `group` on `topic` (subscribe, wait for the
// assignment), commit the position of every assigned partition and read the
// commits back, each step attempted once. Returns "" or what went wrong.
std::string group_round_trip(const std::string& brokers, const std::string& topic,
                             const std::string& group);
// The same through `connection` (its TLS and SASL properties as they are).
std::string group_round_trip(const kafka::Connection& connection, const std::string& topic,
                             const std::string& group);

// Value of one series in a worker's /metrics ("name" or "name{label=\"x\"}"),
// 0 when absent.
double scrape_metric(int http_port, const std::string& series);
int http_status(int http_port, const std::string& path);
// The lines of a worker's /metrics that start with `prefix`, for failure messages.
std::string metric_lines(int http_port, const std::string& prefix);

// A free TCP port on 127.0.0.1.
int free_port();

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return condition();
}

}  // namespace imgpipe::integration
