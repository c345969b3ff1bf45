// `imgpipe run`: wires Kafka, S3, libvips and the HTTP port around the
// worker loop and runs it until SIGTERM or SIGINT.
#include <csignal>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "cli/wiring.h"
#include "image/runtime.h"
#include "kafka/consumer.h"
#include "observe/http_server.h"
#include "observe/log.h"
#include "pipeline/job.h"
#include "pipeline/worker.h"
#include "s3/client.h"

namespace imgpipe::cli {
namespace {

// Blocks SIGINT/SIGTERM in every thread (call before starting any) and lets
// one watcher thread turn them into a stop request.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  }

  void start(std::function<void(int)> on_signal) {
    thread_ = std::jthread([this, on_signal = std::move(on_signal)](std::stop_token stop) {
      const timespec tick{0, 200'000'000};
      while (!stop.stop_requested()) {
        const int signal = sigtimedwait(&signals_, nullptr, &tick);
        if (signal > 0) on_signal(signal);
      }
    });
  }

 private:
  sigset_t signals_{};
  std::jthread thread_;
};

// S3 reachability for /readyz, asked at most every few seconds so that a
// busy prober does not turn into S3 load.
class S3Probe {
 public:
  S3Probe(s3::Client& client, std::string bucket) : client_(client), bucket_(std::move(bucket)) {}

  std::pair<bool, std::string> check() {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now - checked_at_ > std::chrono::seconds(5) || !reachable_) {
      auto exists = client_.bucket_exists(bucket_);
      reachable_ = exists.ok() && exists.value();
      detail_ = exists.ok() ? (exists.value() ? "" : "bucket " + bucket_ + " does not exist")
                            : exists.error().message;
      checked_at_ = now;
    }
    return {reachable_, detail_};
  }

 private:
  s3::Client& client_;
  std::string bucket_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point checked_at_{};
  bool reachable_ = false;
  std::string detail_;
};

}  // namespace

int run_worker(const CommonOptions& common) {
  SignalWatcher signals;
  auto config = load_or_report(common);
  if (!config) return 2;
  // load_config() accepted only names parse_log_level() knows.
  observe::init_logging(observe::parse_log_level(config->log_level).value_or(spdlog::level::info));
  image::Runtime vips("imgpipe");

  s3::Client store(s3_options(*config));
  pipeline::RealSleeper sleeper;
  pipeline::Job job(*config, store, sleeper);
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

  // Readiness asks the bucket of the first rule: the one the worker reads most.
  S3Probe s3_probe(store, config->effective_rules().front().match.bucket);
  kafka::EventSource& source = *consumer.value();
  auto server = observe::StatusServer::start(config->http_listen, [&] {
    if (!source.joined()) return observe::Readiness{false, "kafka: consumer group not joined yet"};
    auto [reachable, detail] = s3_probe.check();
    if (!reachable) return observe::Readiness{false, "s3: " + detail};
    return observe::Readiness{true, ""};
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
