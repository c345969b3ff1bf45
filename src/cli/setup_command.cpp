// `imgpipe setup`: everything the pipeline needs besides running services.
// Idempotent: what exists is reported and left alone.
#include <iostream>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "cli/notification.h"
#include "cli/wiring.h"
#include "kafka/admin.h"
#include "observe/log.h"
#include "s3/client.h"
#include "s3/minio_admin.h"

namespace imgpipe::cli {
namespace {

bool ensure_bucket(s3::Client& client, const std::string& bucket) {
  auto exists = client.bucket_exists(bucket);
  if (!exists) {
    std::cerr << "bucket " << bucket << ": " << exists.error().message << '\n';
    return false;
  }
  if (exists.value()) {
    std::cout << "bucket " << bucket << ": exists\n";
    return true;
  }
  auto created = client.create_bucket(bucket);
  if (!created) {
    std::cerr << "bucket " << bucket << ": " << created.error().message << '\n';
    return false;
  }
  std::cout << "bucket " << bucket << ": created\n";
  return true;
}

bool ensure_topic(const pipeline::Config& config, const std::string& name, int partitions) {
  kafka::TopicSpec spec{name, partitions, config.kafka.replication};
  auto state = kafka::ensure_topic(setup_kafka_connection(config), spec);
  if (!state) {
    std::cerr << "topic " << name << ": " << state.error().message << '\n';
    return false;
  }
  std::cout << "topic " << name << ": " << (state->created ? "created" : "exists") << " with "
            << state->partitions << " partitions\n";
  if (!state->created && state->partitions != partitions) {
    std::cout << "  note: asked for " << partitions
              << " partitions; existing topics are not changed by setup\n";
  }
  return true;
}

// The events imgpipe acts on: uploads, and deletes (to remove outputs).
const std::vector<std::string>& notified_events(const pipeline::Config& config) {
  static const std::vector<std::string> with_deletes = {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"};
  static const std::vector<std::string> uploads_only = {"s3:ObjectCreated:*"};
  return config.pipeline.delete_outputs ? with_deletes : uploads_only;
}

// What to do when the server has no bucket notification API (versitygw).
void explain_missing_notification_api(const Error& error) {
  if (error.message.find("NotImplemented") == std::string::npos) return;
  std::cerr << "  this S3 server does not implement bucket notification configuration.\n"
               "  If it publishes events to Kafka itself (versitygw: --event-kafka-url,\n"
               "  --event-kafka-topic), configure that on the server and set\n"
               "  s3.notifications=server (IMGPIPE_S3_NOTIFICATIONS=server); see "
               "docs/s3-servers.md\n";
}

bool ensure_notification(s3::Client& client, const pipeline::Config& config,
                         const std::string& bucket) {
  if (config.s3.notifications == "server") {
    std::cout << "notification on " << bucket
              << ": left to the server (s3.notifications=server); it must publish to topic "
              << config.kafka.topic << '\n';
    return true;
  }
  auto current = client.get_bucket_notification(bucket);
  if (!current) {
    std::cerr << "notification on " << bucket << ": " << current.error().message << '\n';
    explain_missing_notification_api(current.error());
    return false;
  }
  std::string document = current.value();
  std::vector<std::string> added;
  for (const auto& event : notified_events(config)) {
    if (auto merged = add_queue_notification(document, config.s3.notify_arn, event)) {
      document = std::move(*merged);
      added.push_back(event);
    } else {
      std::cout << "notification on " << bucket << ": already sends " << event << " to "
                << config.s3.notify_arn << '\n';
    }
  }
  if (added.empty()) return true;
  auto stored = client.put_bucket_notification(bucket, document);
  if (!stored) {
    std::cerr << "notification on " << bucket << ": " << stored.error().message << '\n';
    return false;
  }
  for (const auto& event : added) {
    std::cout << "notification on " << bucket << ": " << event << " -> " << config.s3.notify_arn
              << '\n';
  }
  return true;
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// With setup.s3_admin_access_key: s3.access_key becomes a MinIO user whose
// only policy lets it read the sources and write (and delete in) the targets.
bool ensure_worker_user(const pipeline::Config& config, const s3::WorkerAccess& access) {
  if (config.setup.s3_admin_access_key.empty()) return true;
  const auto& user = config.s3.access_key;
  const auto& policy = config.setup.worker_policy;
  const s3::MinioAdmin admin(setup_s3_options(config));
  auto done = admin.put_policy(policy, s3::worker_policy_document(access));
  if (done) done = admin.add_user(user, config.s3.secret_key);
  if (done) done = admin.set_user_policy(policy, user);
  if (!done) {
    std::cerr << "worker user " << user << ": " << done.error().message << '\n';
    return false;
  }
  std::cout << "worker user " << user << ": policy " << policy << " (read "
            << joined(access.sources) << "; write" << (access.delete_outputs ? " and delete" : "")
            << " in " << joined(access.targets) << "; nothing else)\n";
  return true;
}

// With setup.kafka_admin_username: ACLs for the worker's and the publisher's users.
bool ensure_worker_acls(const pipeline::Config& config) {
  if (config.setup.kafka_admin_username.empty()) return true;
  const auto& publisher = config.setup.kafka_publisher_user;
  const auto grants = kafka::pipeline_grants(
      {"User:" + config.kafka.sasl_username, publisher.empty() ? "" : "User:" + publisher,
       config.kafka.topic, config.effective_dlq_topic(), config.kafka.group});
  auto granted = kafka::grant_acls(setup_kafka_connection(config), grants);
  if (!granted) {
    std::cerr << "kafka ACLs: " << granted.error().message << '\n';
    return false;
  }
  for (const auto& grant : grants) std::cout << "kafka ACL: " << kafka::describe(grant) << '\n';
  return true;
}

}  // namespace

int run_setup(const CommonOptions& common, int partitions_override) {
  observe::init_logging(spdlog::level::warn, false);
  auto config = load_or_report(common);
  if (!config) return 2;
  warn_about_connection_settings(*config);
  const int partitions = partitions_override > 0 ? partitions_override : config->kafka.partitions;

  // Every bucket a rule reads from gets the notification; every bucket an
  // output goes to must exist.
  std::set<std::string> sources, targets;
  for (const auto& rule : config->effective_rules()) {
    sources.insert(rule.match.bucket);
    for (const auto& output : rule.outputs) targets.insert(output.bucket);
  }
  s3::Client client(setup_s3_options(*config));
  bool ok = true;
  for (const auto& bucket : sources) ok = ok && ensure_bucket(client, bucket);
  for (const auto& bucket : targets)
    ok = ok && (sources.count(bucket) || ensure_bucket(client, bucket));
  ok = ok && ensure_topic(*config, config->kafka.topic, partitions) &&
       ensure_topic(*config, config->effective_dlq_topic(), partitions);
  for (const auto& bucket : sources) ok = ok && ensure_notification(client, *config, bucket);
  ok = ok && ensure_worker_user(*config, {sources, targets, config->pipeline.delete_outputs}) &&
       ensure_worker_acls(*config);
  return ok ? 0 : 1;
}

}  // namespace imgpipe::cli
