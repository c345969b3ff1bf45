// The worker's configuration: a plain struct with defaults, and one table
// that declares every setting once (YAML path, environment variable,
// description, default, bounds or choices). Loading applies, in order: defaults, the
// YAML file, IMGPIPE_* environment variables. Every problem is reported with
// the setting's path, e.g. "pipeline.width: must be between 1 and 16383".
//
// Thread-safety: load once, then read-only.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "image/recipe.h"
#include "pipeline/rules.h"

namespace imgpipe::pipeline {

struct KafkaSettings {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "bucket-events";
  std::string dlq_topic;  // empty: <topic>.dlq (effective_dlq_topic)
  std::string group = "imgpipe";
  std::string instance_id;
  std::string security_protocol = "plaintext";  // choices: in the settings table
  std::string sasl_mechanism;                   // choices: in the settings table
  std::string sasl_username;
  std::string sasl_password;
  std::string ssl_ca_location;  // CA bundle file; empty: the system's
  bool insecure_skip_tls_verify = false;
  int partitions = 6;
  int replication = 1;
  int session_timeout_ms = 10000;
};

struct S3Settings {
  std::string endpoint = "http://127.0.0.1:9000";
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  bool path_style = true;
  int connect_timeout_ms = 3000;
  int request_timeout_ms = 60000;
  std::string ca_file;  // CA bundle file for https endpoints; empty: the system's
  bool insecure_skip_tls_verify = false;
  std::string notify_arn = "arn:minio:sqs::PRIMARY:kafka";
  std::string notifications = "bucket";  // choices: in the settings table
  std::string event_keys = "detect";     // events::key_encoding_names()
};

struct PipelineSettings {
  std::string source_bucket = "raw";
  std::string target_bucket = "processed";
  int width = 1024;
  int height = 1024;
  int quality = 0;        // 0: each format's default
  int workers = 0;        // 0: 2 x renders
  int renders = 0;        // 0: one per core
  int max_in_flight = 0;  // 0: 8 x workers, at least 32
  // The safety limits start from image::Limits' defaults (written there only).
  long long max_input_bytes = static_cast<long long>(image::Limits{}.max_input_bytes);
  long long max_input_pixels = static_cast<long long>(image::Limits{}.max_input_pixels);
  int max_frames = image::Limits{}.max_frames;
  std::string fail_on = image::fail_on_name(image::Limits{}.fail_on);  // image::fail_on_names()
  std::set<std::string> allowed_formats = image::Limits{}.allowed_formats;
  bool allow_loops = false;
  int retry_initial_ms = 200;
  int retry_max_ms = 10000;
  int max_attempts = 5;
  bool delete_outputs = true;
  int shutdown_grace_ms = 30000;
};

struct MetricsSettings {
  int dlq_interval_ms = 30000;  // reads of the dead-letter topic's watermarks
};

// Only `imgpipe setup` reads these: the privileged identities it acts with
// while it gives the worker (s3.access_key, kafka.sasl_username) its own,
// least-privileged one.
struct SetupSettings {
  std::string s3_admin_access_key;  // empty: setup uses s3.* and creates no user
  std::string s3_admin_secret_key;
  std::string worker_policy = "imgpipe-worker";
  std::string kafka_admin_username;  // empty: setup uses kafka.* and grants no ACLs
  std::string kafka_admin_password;
  std::string kafka_publisher_user;  // SASL user the object store publishes as; empty: none
};

struct Config {
  KafkaSettings kafka;
  S3Settings s3;
  PipelineSettings pipeline;
  MetricsSettings metrics;
  SetupSettings setup;
  std::string http_listen = "127.0.0.1:8080";
  std::string log_level = "info";  // observe::log_level_names()
  // Empty: one rule built from pipeline.* (source_bucket -> target_bucket,
  // fit in width x height, same format, same key).
  std::vector<Rule> rules;

  int effective_workers() const;
  int effective_renders() const;  // at most effective_workers()
  int effective_max_in_flight() const;
  std::string effective_dlq_topic() const;
  std::vector<Rule> effective_rules() const;
  image::Limits limits() const;
};

// One declared setting. `bind` returns the field inside a Config.
struct Setting {
  using Binding = std::variant<std::function<std::string&(Config&)>, std::function<int&(Config&)>,
                               std::function<long long&(Config&)>, std::function<bool&(Config&)>,
                               std::function<std::set<std::string>&(Config&)>>;
  std::string path;  // "kafka.brokers"
  std::string env;   // "IMGPIPE_KAFKA_BROKERS"
  std::string description;
  Binding bind;
  long long min = 0, max = 0;  // bounds for numbers (inclusive)
  bool secret = false;         // never printed
  bool required = false;       // must be non-empty after loading
  // Text and list settings: when not empty, every value must be one of these,
  // compared ignoring ASCII case, and is stored as spelled here. A list is a
  // YAML sequence, or comma-separated in the environment.
  std::vector<std::string> choices = {};

  bool is_list() const {
    return std::holds_alternative<std::function<std::set<std::string>&(Config&)>>(bind);
  }
};

const std::vector<Setting>& settings();

using Environment = std::function<std::optional<std::string>(const std::string&)>;
Environment process_environment();

// What the configuration is for: `local` (imgpipe process) needs no Kafka or
// S3 connection settings.
enum class Use { worker, local };

// Loads defaults < file (when path non-empty) < environment. A secret setting
// may instead be read from the file named by <its env variable>_FILE, which
// must not be readable by every user. Error:
// invalid_config with every problem, one per line.
Result<Config> load_config(const std::string& path, const Environment& environment,
                           Use use = Use::worker);
// The same from YAML text (for tests and for `imgpipe validate`).
Result<Config> load_config_text(const std::string& yaml, const Environment& environment,
                                Use use = Use::worker);

// The current value of a setting as text ("***" for secrets).
std::string describe_value(const Setting& setting, const Config& config);

}  // namespace imgpipe::pipeline
