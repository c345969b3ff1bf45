// Turns the configuration into the options of each component.
#pragma once

#include <optional>

#include "cli/commands.h"
#include "kafka/consumer.h"
#include "pipeline/config.h"
#include "pipeline/worker.h"
#include "s3/client.h"

namespace imgpipe::cli {

s3::ClientOptions s3_options(const pipeline::Config& config);
kafka::Connection kafka_connection(const pipeline::Config& config);
// What `imgpipe setup` connects with: the setup.*_admin_* identities where
// they are given, else the same as s3_options and kafka_connection.
s3::ClientOptions setup_s3_options(const pipeline::Config& config);
kafka::Connection setup_kafka_connection(const pipeline::Config& config);
kafka::ConsumerOptions consumer_options(const pipeline::Config& config);
pipeline::WorkerOptions worker_options(const pipeline::Config& config);

// "imgpipe 0.1.0": what --version prints.
const char* version_text();

// Records imgpipe's version and the libvips and librdkafka it runs with as
// imgpipe_build_info in the metrics `/metrics` serves.
void publish_build_info();

// Logs a warning for every TLS connection whose certificate check is turned
// off (kafka.insecure_skip_tls_verify, s3.insecure_skip_tls_verify), and for
// SCRAM with a librdkafka that Kafka 4 brokers refuse (scram_fails_on_kafka4).
void warn_about_connection_settings(const pipeline::Config& config);

// Loads the configuration; on failure prints every problem and returns nullopt.
std::optional<pipeline::Config> load_or_report(const CommonOptions& common);

}  // namespace imgpipe::cli
