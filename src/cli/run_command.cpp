// `imgpipe run`: wires Kafka, S3, libvips and the HTTP port around the
// worker loop and runs it until SIGTERM or SIGINT.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

#include "cli/commands.h"
#include "cli/signals.h"
#include "cli/wiring.h"
#include "image/runtime.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "observe/http_server.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "pipeline/dead_letter.h"
#include "pipeline/dead_letter_probe.h"
#include "pipeline/job.h"
#include "pipeline/store_health.h"
#include "pipeline/worker.h"
#include "s3/client.h"

namespace imgpipe::cli {
namespace {

// Who dead-letters a message: the static member id, else host and pid.
std::string worker_id(const pipeline::Config& config) {
  if (!config.kafka.instance_id.empty()) return config.kafka.instance_id;
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return std::string(host.data()) + "/" + std::to_string(getpid());
}

// The health probe answers within a few seconds even when the store hangs.
s3::ClientOptions probe_options(const pipeline::Config& config) {
  auto options = s3_options(config);
  options.connect_timeout_ms = std::min<long>(options.connect_timeout_ms, 1000);
  options.request_timeout_ms = std::min<long>(options.request_timeout_ms, 3000);
  return options;
}

// A read of the dead-letter topic's watermarks gives up after this; a stop
// waits for a read under way, so it is kept short (brokers answer in ms).
constexpr std::chrono::seconds kDeadLetterReadTimeout{3};

}  // namespace

int run_worker(const CommonOptions& common) {
  SignalWatcher signals;
  auto config = load_or_report(common);
  if (!config) return 2;
  // load_config() accepted only names parse_log_level() knows.
  observe::init_logging(observe::parse_log_level(config->log_level).value_or(spdlog::level::info));
  warn_about_connection_settings(*config);
  image::Runtime vips("imgpipe");

  s3::Client store(s3_options(*config));
  s3::Client probe_store(probe_options(*config));
  // Health asks the bucket of the first rule: the one the worker reads most.
  pipeline::ProbedStoreHealth health(probe_store, config->effective_rules().front().match.bucket);
  health.refresh();
  if (std::string detail; !health.reachable(&detail)) {
    // The worker stays up (not ready) and probes on: an outage may end, a
    // certificate or credential be fixed.
    observe::log_fields(spdlog::level::err, "cannot reach the object store",
                        {{"s3", config->s3.endpoint}, {"error", detail}});
  }
  health.start_probing(std::chrono::seconds(1));
  auto producer = kafka::Producer::create(kafka_connection(*config));
  if (!producer) {
    observe::log_fields(spdlog::level::critical, "cannot start the Kafka producer",
                        {{"error", producer.error().message}});
    return 2;
  }
  pipeline::KafkaDeadLetters dead_letters(*producer.value(), config->effective_dlq_topic(),
                                          worker_id(*config));
  // imgpipe_dead_letter_topic_records, through the producer's connections;
  // stopped before the producer goes.
  pipeline::DeadLetterTopicProbe dead_letter_probe(
      observe::Metrics::global(), config->effective_dlq_topic(),
      [&producer = *producer.value(), topic = config->effective_dlq_topic()] {
        return producer.watermarks(topic, kDeadLetterReadTimeout);
      });
  dead_letter_probe.start(std::chrono::milliseconds(config->metrics.dlq_interval_ms));
  pipeline::RealSleeper sleeper;
  pipeline::Job job(*config, pipeline::JobDeps{store, sleeper, dead_letters, health});
  pipeline::Worker worker(worker_options(*config),
                          [&job](const kafka::Message& message, std::stop_token stop) {
                            return job.handle(message, stop);
                          });

  auto consumer = kafka::KafkaConsumer::create(consumer_options(*config), worker);
  if (!consumer) {
    observe::log_fields(spdlog::level::critical, "cannot start the Kafka consumer",
                        {{"error", consumer.error().message}});
    return 2;
  }

  kafka::EventSource& source = *consumer.value();
  publish_build_info();
  // Not ready names every cause, "kafka: tls_failed: ...; s3: access_denied: ...".
  auto server = observe::StatusServer::start(config->http_listen, [&] {
    std::string causes;
    if (!source.joined()) {
      const auto problem = kafka::last_connection_problem();
      causes = problem
                   ? "kafka: " + std::string(reason_name(problem->reason)) + ": " + problem->message
                   : "kafka: consumer group not joined yet";
    }
    if (std::string detail; !health.reachable(&detail)) {
      causes += (causes.empty() ? "s3: " : "; s3: ") + detail;
    }
    return observe::Readiness{causes.empty(), causes};
  });
  if (!server) {
    observe::log_fields(spdlog::level::critical, "cannot start the HTTP port",
                        {{"error", server.error().message}});
    return 2;
  }

  signals.start([&worker](int signal) {
    observe::log_fields(spdlog::level::info, "signal received; shutting down",
                        {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    worker.request_stop();
  });
  observe::log_fields(
      spdlog::level::info, "started",
      {{"brokers", config->kafka.brokers},
       {"topic", config->kafka.topic},
       {"dlq_topic", config->effective_dlq_topic()},
       {"group", config->kafka.group},
       {"s3", config->s3.endpoint},
       {"source_bucket", config->pipeline.source_bucket},
       {"target_bucket", config->pipeline.target_bucket},
       {"workers", config->effective_workers()},
       {"max_in_flight", config->effective_max_in_flight()},
       {"http", config->http_listen + " (port " + std::to_string(server.value()->port()) + ")"}});
  const int status = worker.run(source);
  observe::log_fields(spdlog::level::info, "stopped", {{"exit_status", status}});
  return status;
}

}  // namespace imgpipe::cli
