#include "cli/wiring.h"

#include <unistd.h>

#include <iostream>

#include "image/runtime.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "pipeline/lag_recorder.h"

namespace imgpipe::cli {

const char* version_text() {
  return "imgpipe " IMGPIPE_VERSION;
}

void publish_build_info() {
  observe::Metrics::global().set_build_info(
      {{"version", IMGPIPE_VERSION},
       {"libvips", image::library_version()},
       {"librdkafka", kafka::library_version()},
       {"libvips_simd", image::run_time_simd_is_safe() ? "on" : "off"}});
}

s3::ClientOptions s3_options(const pipeline::Config& config) {
  s3::ClientOptions options;
  options.endpoint = config.s3.endpoint;
  options.region = config.s3.region;
  options.access_key = config.s3.access_key;
  options.secret_key = config.s3.secret_key;
  options.path_style = config.s3.path_style;
  options.connect_timeout_ms = config.s3.connect_timeout_ms;
  options.request_timeout_ms = config.s3.request_timeout_ms;
  options.ca_file = config.s3.ca_file;
  options.insecure_skip_tls_verify = config.s3.insecure_skip_tls_verify;
  return options;
}

kafka::Connection kafka_connection(const pipeline::Config& config) {
  const auto& kafka = config.kafka;
  kafka::Connection connection{kafka.brokers, {{"security.protocol", kafka.security_protocol}}};
  if (!kafka.sasl_mechanism.empty())
    connection.properties["sasl.mechanisms"] = kafka.sasl_mechanism;
  if (!kafka.sasl_username.empty()) connection.properties["sasl.username"] = kafka.sasl_username;
  if (!kafka.sasl_password.empty()) connection.properties["sasl.password"] = kafka.sasl_password;
  if (!kafka.ssl_ca_location.empty())
    connection.properties["ssl.ca.location"] = kafka.ssl_ca_location;
  if (kafka.insecure_skip_tls_verify) {
    connection.properties["enable.ssl.certificate.verification"] = "false";
    connection.properties["ssl.endpoint.identification.algorithm"] = "none";
  }
  return connection;
}

s3::ClientOptions setup_s3_options(const pipeline::Config& config) {
  auto options = s3_options(config);
  if (!config.setup.s3_admin_access_key.empty()) {
    options.access_key = config.setup.s3_admin_access_key;
    options.secret_key = config.setup.s3_admin_secret_key;
  }
  return options;
}

kafka::Connection setup_kafka_connection(const pipeline::Config& config) {
  auto connection = kafka_connection(config);
  if (!config.setup.kafka_admin_username.empty()) {
    connection.properties["sasl.username"] = config.setup.kafka_admin_username;
    connection.properties["sasl.password"] = config.setup.kafka_admin_password;
  }
  return connection;
}

kafka::ConsumerOptions consumer_options(const pipeline::Config& config) {
  kafka::ConsumerOptions options;
  options.connection = kafka_connection(config);
  options.group = config.kafka.group;
  options.topic = config.kafka.topic;
  options.instance_id = config.kafka.instance_id;
  options.session_timeout_ms = config.kafka.session_timeout_ms;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  options.client_id = std::string("imgpipe-") + host;
  // Lag on /metrics, from the statistics librdkafka gathers anyway.
  options.statistics_interval_ms = 5000;
  options.on_lag = pipeline::LagRecorder(observe::Metrics::global());
  return options;
}

pipeline::WorkerOptions worker_options(const pipeline::Config& config) {
  pipeline::WorkerOptions options;
  options.threads = config.effective_workers();
  options.max_in_flight = config.effective_max_in_flight();
  options.shutdown_grace = std::chrono::milliseconds(config.pipeline.shutdown_grace_ms);
  return options;
}

void warn_about_connection_settings(const pipeline::Config& config) {
  if (config.kafka.sasl_mechanism.rfind("SCRAM-", 0) == 0 && kafka::scram_fails_on_kafka4()) {
    observe::log_fields(
        spdlog::level::warn,
        "this librdkafka cannot log in with SCRAM to Kafka 4.0 or newer (the broker rejects its "
        "client nonce as invalid credentials; fixed in librdkafka 2.6.1): with such brokers use "
        "SASL PLAIN over TLS, or the container image",
        {{"librdkafka", kafka::library_version()}, {"setting", "kafka.sasl_mechanism"}});
  }
  const auto warn = [](const char* setting, const std::string& what) {
    observe::log_fields(spdlog::level::warn,
                        "TLS certificate verification is OFF: anyone between this worker and " +
                            what + " can read and change the traffic and steal its credentials",
                        {{"setting", setting}});
  };
  const bool kafka_tls =
      config.kafka.security_protocol == "ssl" || config.kafka.security_protocol == "sasl_ssl";
  if (config.kafka.insecure_skip_tls_verify && kafka_tls) {
    warn("kafka.insecure_skip_tls_verify", "the brokers");
  }
  if (config.s3.insecure_skip_tls_verify && config.s3.endpoint.rfind("https://", 0) == 0) {
    warn("s3.insecure_skip_tls_verify", "the object store");
  }
}

std::optional<pipeline::Config> load_or_report(const CommonOptions& common) {
  auto config = pipeline::load_config(common.config_path, pipeline::process_environment());
  if (!config) {
    std::cerr << "invalid configuration:\n" << config.error().message << '\n';
    return std::nullopt;
  }
  return std::move(config).value();
}

}  // namespace imgpipe::cli
