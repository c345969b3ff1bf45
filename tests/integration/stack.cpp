#include "integration/stack.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafkacpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "kafka/topic_reader.h"

namespace imgpipe::integration {

std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: run integration tests after `source .stack/env` "
                             "(make integration-test does this)");
  }
  return value;
}

namespace {

std::string optional_env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

std::string env_or_file(const std::string& name) {
  if (auto value = optional_env(name.c_str()); !value.empty()) return value;
  const auto file = optional_env((name + "_FILE").c_str());
  if (file.empty()) return "";
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

namespace {

s3::ClientOptions s3_options_as(const std::string& access_key, const std::string& secret_key) {
  s3::ClientOptions options;
  options.endpoint = required_env("IMGPIPE_S3_ENDPOINT");
  options.region = required_env("IMGPIPE_S3_REGION");
  options.access_key = access_key;
  options.secret_key = secret_key;
  if (const char* ca = std::getenv("IMGPIPE_S3_CA_FILE"); ca != nullptr) options.ca_file = ca;
  if (options.access_key.empty() || options.secret_key.empty())
    throw std::runtime_error("the stack's env file names no S3 credentials");
  return options;
}

}  // namespace

s3::ClientOptions stack_s3_options() {
  if (auto admin = optional_env("IMGPIPE_SETUP_S3_ADMIN_ACCESS_KEY"); !admin.empty())
    return s3_options_as(admin, env_or_file("IMGPIPE_SETUP_S3_ADMIN_SECRET_KEY"));
  return worker_s3_options();
}

s3::ClientOptions worker_s3_options() {
  return s3_options_as(required_env("IMGPIPE_S3_ACCESS_KEY"), env_or_file("IMGPIPE_S3_SECRET_KEY"));
}

std::map<std::string, std::string> worker_kafka_security() {
  std::map<std::string, std::string> properties;
  const std::string protocol = optional_env("IMGPIPE_KAFKA_SECURITY_PROTOCOL");
  if (protocol.empty()) return properties;
  properties["security.protocol"] = protocol;
  const std::pair<const char*, const char*> settings[] = {
      {"IMGPIPE_KAFKA_SASL_MECHANISM", "sasl.mechanisms"},
      {"IMGPIPE_KAFKA_SASL_USERNAME", "sasl.username"},
      {"IMGPIPE_KAFKA_SSL_CA_LOCATION", "ssl.ca.location"}};
  for (const auto& [variable, property] : settings) {
    if (auto value = optional_env(variable); !value.empty()) properties[property] = value;
  }
  if (auto password = env_or_file("IMGPIPE_KAFKA_SASL_PASSWORD"); !password.empty())
    properties["sasl.password"] = password;
  return properties;
}

std::map<std::string, std::string> stack_kafka_security() {
  auto properties = worker_kafka_security();
  if (auto admin = optional_env("IMGPIPE_SETUP_KAFKA_ADMIN_USERNAME"); !admin.empty()) {
    properties["sasl.username"] = admin;
    properties["sasl.password"] = env_or_file("IMGPIPE_SETUP_KAFKA_ADMIN_PASSWORD");
  }
  return properties;
}

kafka::Connection stack_kafka() {
  return kafka::Connection{stack_brokers(), stack_kafka_security()};
}

void set_stack_security(RdKafka::Conf& conf) {
  std::string error;
  for (const auto& [name, value] : stack_kafka_security()) conf.set(name, value, error);
}

std::string stack_brokers() {
  return required_env("IMGPIPE_KAFKA_BROKERS");
}
std::string stack_topic() {
  return required_env("IMGPIPE_KAFKA_TOPIC");
}

std::string stack_s3_server() {
  const char* server = std::getenv("IMGPIPE_STACK_S3");
  return server != nullptr && *server != '\0' ? server : "minio";
}

std::map<std::string, std::string> worker_env(const std::string& source_bucket,
                                              const std::string& target_bucket,
                                              const std::string& group, int http_port) {
  return {
      {"IMGPIPE_SOURCE_BUCKET", source_bucket},
      {"IMGPIPE_TARGET_BUCKET", target_bucket},
      {"IMGPIPE_KAFKA_GROUP", group},
      {"IMGPIPE_HTTP_LISTEN", "127.0.0.1:" + std::to_string(http_port)},
      {"IMGPIPE_WORKERS", "2"},
      {"IMGPIPE_RETRY_INITIAL_MS", "100"},
      {"IMGPIPE_SHUTDOWN_GRACE_MS", "20000"},
  };
}

std::string unique_name(const std::string& prefix) {
  std::random_device random;
  std::ostringstream name;
  name << prefix << "-" << std::hex << (random() & 0xffffff) << "-" << getpid();
  return name.str();
}

std::optional<std::vector<std::string>> records_naming_bucket(const std::string& bucket) {
  // versitygw's name field may hold another request's bytes; its ARN does not.
  const std::string name = "\"name\":\"" + bucket + "\"";
  const std::string arn = "\"arn\":\"arn:aws:s3:::/" + bucket + "/";
  std::vector<std::string> records;
  const auto read =
      kafka::read_topic(stack_kafka(), stack_topic(), [&](const kafka::Message& message) {
        if (message.payload.find(name) != std::string::npos ||
            message.payload.find(arn) != std::string::npos) {
          records.push_back(message.payload);
        }
      });
  if (!read) return std::nullopt;
  return records;
}

namespace {

// The objects of `bucket` the topic holds an event for. Distinct keys, not
// records: the gateway's Kafka client retries a produce request that timed
// out, so one upload may have two records while another's is still on its way.
int objects_with_events(const std::string& bucket) {
  const auto records = records_naming_bucket(bucket);
  if (!records) return -1;
  // The key as versitygw's ARN gives it ("arn:aws:s3:::/<bucket>/<key>"),
  // not its key field, which may name a neighbouring upload.
  const std::string prefix = "arn:aws:s3:::/" + bucket + "/";
  std::set<std::string> keys;
  for (const auto& record : *records) {
    const auto json = nlohmann::json::parse(record, nullptr, false);
    if (json.is_discarded() || !json.contains("Records")) continue;
    for (const auto& entry : json["Records"]) {
      const std::string arn =
          entry.value(nlohmann::json::json_pointer("/s3/bucket/arn"), std::string());
      if (arn.starts_with(prefix)) keys.insert(arn.substr(prefix.size()));
    }
  }
  return static_cast<int>(keys.size());
}

void await_server_events(const PriorUploads& prior) {
  if (prior.objects == 0 || stack_s3_server() != "versitygw") return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  int seen = 0;
  while ((seen = objects_with_events(prior.bucket)) < prior.objects &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ASSERT_GE(seen, prior.objects) << "objects of " << prior.bucket << " with an event in "
                                 << stack_topic();
}

}  // namespace

void start_group_at_end(const std::string& group, const PriorUploads& prior) {
  await_server_events(prior);
  if (::testing::Test::HasFatalFailure()) return;
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", stack_brokers(), error);
  set_stack_security(*conf);
  conf->set("group.id", group, error);
  conf->set("enable.auto.commit", "false", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;

  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> topic(
      RdKafka::Topic::create(consumer.get(), stack_topic(), nullptr, error));
  ASSERT_EQ(consumer->metadata(false, topic.get(), &raw, 10000), RdKafka::ERR_NO_ERROR);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  ASSERT_EQ(metadata->topics()->size(), 1u);

  const auto* partitions = metadata->topics()->front()->partitions();
  const auto end_offsets = [&] {
    std::vector<int64_t> ends;
    for (const auto* partition : *partitions) {
      int64_t low = 0, high = -1;
      consumer->query_watermark_offsets(stack_topic(), partition->id(), &low, &high, 10000);
      ends.push_back(high);
    }
    return ends;
  };
  const auto ends = end_offsets();
  std::vector<RdKafka::TopicPartition*> offsets;
  for (std::size_t i = 0; i < partitions->size(); ++i) {
    ASSERT_GE(ends[i], 0) << "no end offset for partition " << (*partitions)[i]->id();
    offsets.push_back(
        RdKafka::TopicPartition::create(stack_topic(), (*partitions)[i]->id(), ends[i]));
  }
  const auto committed = retry_kafka([&] { return consumer->commitSync(offsets); });
  RdKafka::TopicPartition::destroy(offsets);
  consumer->close();
  ASSERT_EQ(committed, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(committed);
}

bool is_retriable_kafka_error(RdKafka::ErrorCode error) {
  switch (error) {
    case RdKafka::ERR_NOT_COORDINATOR:
    case RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__WAIT_COORD:
    case RdKafka::ERR__TRANSPORT: return true;
    default: return false;
  }
}

RdKafka::ErrorCode retry_kafka(const std::function<RdKafka::ErrorCode()>& call,
                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto result = call();
    if (!is_retriable_kafka_error(result) || std::chrono::steady_clock::now() >= deadline) {
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::string group_round_trip(const std::string& brokers, const std::string& topic,
                             const std::string& group) {
  const bool stack = brokers == stack_brokers();
  return group_round_trip(kafka::Connection{brokers, stack ? stack_kafka_security()
                                                           : std::map<std::string, std::string>{}},
                          topic, group);
}

std::string group_round_trip(const kafka::Connection& connection, const std::string& topic,
                             const std::string& group) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [name, value] : connection.client_properties()) conf->set(name, value, error);
  conf->set("group.id", group, error);
  conf->set("enable.auto.commit", "false", error);
  conf->set("auto.offset.reset", "earliest", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) return "creating the consumer: " + error;
  if (const auto err = consumer->subscribe({topic}); err != RdKafka::ERR_NO_ERROR) {
    return "subscribe: " + RdKafka::err2str(err);
  }
  std::vector<RdKafka::TopicPartition*> assigned;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (assigned.empty() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(200));
    if (message->err() != RdKafka::ERR_NO_ERROR && message->err() != RdKafka::ERR__TIMED_OUT &&
        message->err() != RdKafka::ERR__PARTITION_EOF) {
      return "consume: " + message->errstr();
    }
    consumer->assignment(assigned);
  }
  std::string problem;
  if (assigned.empty()) problem = "no partitions assigned within 30 s";
  if (problem.empty()) {
    for (auto* partition : assigned) partition->set_offset(0);
    if (const auto err = consumer->commitSync(assigned); err != RdKafka::ERR_NO_ERROR) {
      problem = "commit: " + RdKafka::err2str(err);
    }
  }
  if (problem.empty()) {
    for (auto* partition : assigned) partition->set_offset(RdKafka::Topic::OFFSET_INVALID);
    if (const auto err = consumer->committed(assigned, 10000); err != RdKafka::ERR_NO_ERROR) {
      problem = "reading the commit back: " + RdKafka::err2str(err);
    }
    for (const auto* partition : assigned) {
      if (problem.empty() && partition->offset() != 0) {
        problem = "partition " + std::to_string(partition->partition()) + " reads back offset " +
                  std::to_string(partition->offset()) + " instead of 0";
      }
    }
  }
  RdKafka::TopicPartition::destroy(assigned);
  consumer->close();
  return problem;
}

double scrape_metric(int http_port, const std::string& series) {
  httplib::Client client("127.0.0.1", http_port);
  client.set_connection_timeout(2);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) return -1;
  std::istringstream lines(response->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

std::string metric_lines(int http_port, const std::string& prefix) {
  httplib::Client client("127.0.0.1", http_port);
  client.set_connection_timeout(2);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) return "(no /metrics)\n";
  std::istringstream lines(response->body);
  std::string found;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(prefix)) found += line + "\n";
  }
  return found;
}

int http_status(int http_port, const std::string& path) {
  httplib::Client client("127.0.0.1", http_port);
  client.set_connection_timeout(1);
  auto response = client.Get(path.c_str());
  return response ? response->status : -1;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace imgpipe::integration
