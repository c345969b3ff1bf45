#include "pipeline/config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/ascii.h"
#include "events/event.h"
#include "observe/log.h"
#include "pipeline/key_collisions.h"
#include "pipeline/rules_yaml.h"

namespace imgpipe::pipeline {
namespace {

template <class T>
Setting::Binding field(T& (*accessor)(Config&)) {
  return std::function<T&(Config&)>(accessor);
}

Setting text(std::string path, std::string env, std::string description,
             std::string& (*accessor)(Config&), bool required = false, bool secret = false) {
  return Setting{std::move(path), std::move(env), std::move(description), field(accessor), 0, 0,
                 secret,          required};
}

Setting number(std::string path, std::string env, std::string description,
               int& (*accessor)(Config&), long long min, long long max) {
  return Setting{
      std::move(path), std::move(env), std::move(description), field(accessor), min, max};
}

Setting big_number(std::string path, std::string env, std::string description,
                   long long& (*accessor)(Config&), long long min, long long max) {
  return Setting{
      std::move(path), std::move(env), std::move(description), field(accessor), min, max};
}

Setting flag(std::string path, std::string env, std::string description,
             bool& (*accessor)(Config&)) {
  return Setting{std::move(path), std::move(env), std::move(description), field(accessor)};
}

// A text setting that takes one of `choices`.
Setting choice(std::string path, std::string env, std::string description,
               std::string& (*accessor)(Config&), std::vector<std::string> choices, bool required) {
  Setting setting =
      text(std::move(path), std::move(env), std::move(description), accessor, required);
  setting.choices = std::move(choices);
  return setting;
}

// A list setting whose items are `choices`.
Setting list(std::string path, std::string env, std::string description,
             std::set<std::string>& (*accessor)(Config&), std::vector<std::string> choices) {
  Setting setting{std::move(path), std::move(env), std::move(description), field(accessor)};
  setting.choices = std::move(choices);
  return setting;
}

// librdkafka's security.protocol and sasl.mechanisms values imgpipe supports.
const std::vector<std::string> kSecurityProtocols = {"plaintext", "ssl", "sasl_plaintext",
                                                     "sasl_ssl"};
const std::vector<std::string> kNotificationModes = {"bucket", "server"};
const std::vector<std::string> kSaslMechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// The spelling in `choices` of `value` (ASCII case ignored), or nullopt.
std::optional<std::string> find_choice(const std::vector<std::string>& choices,
                                       const std::string& value) {
  for (const auto& known : choices) {
    if (ascii_iequals(known, value)) return known;
  }
  return std::nullopt;
}

std::vector<Setting> declare_settings() {
  return {
      text(
          "kafka.brokers", "IMGPIPE_KAFKA_BROKERS",
          "Kafka bootstrap servers, host:port[,host:port]",
          [](Config& c) -> std::string& { return c.kafka.brokers; }, true),
      text(
          "kafka.topic", "IMGPIPE_KAFKA_TOPIC", "Topic the object store publishes bucket events to",
          [](Config& c) -> std::string& { return c.kafka.topic; }, true),
      text("kafka.dlq_topic", "IMGPIPE_KAFKA_DLQ_TOPIC",
           "Dead-letter topic for messages that failed for good; empty: <kafka.topic>.dlq",
           [](Config& c) -> std::string& { return c.kafka.dlq_topic; }),
      text(
          "kafka.group", "IMGPIPE_KAFKA_GROUP", "Consumer group shared by all workers",
          [](Config& c) -> std::string& { return c.kafka.group; }, true),
      text("kafka.instance_id", "IMGPIPE_KAFKA_INSTANCE_ID",
           "Static group membership id (e.g. the pod name); empty for dynamic membership",
           [](Config& c) -> std::string& { return c.kafka.instance_id; }),
      choice(
          "kafka.security_protocol", "IMGPIPE_KAFKA_SECURITY_PROTOCOL",
          "How workers connect to the brokers (TLS, SASL)",
          [](Config& c) -> std::string& { return c.kafka.security_protocol; }, kSecurityProtocols,
          true),
      choice(
          "kafka.sasl_mechanism", "IMGPIPE_KAFKA_SASL_MECHANISM",
          "SASL mechanism; required with a sasl_* protocol",
          [](Config& c) -> std::string& { return c.kafka.sasl_mechanism; }, kSaslMechanisms, false),
      text("kafka.sasl_username", "IMGPIPE_KAFKA_SASL_USERNAME", "SASL user name",
           [](Config& c) -> std::string& { return c.kafka.sasl_username; }),
      text(
          "kafka.sasl_password", "IMGPIPE_KAFKA_SASL_PASSWORD", "SASL password",
          [](Config& c) -> std::string& { return c.kafka.sasl_password; }, false, true),
      text("kafka.ssl_ca_location", "IMGPIPE_KAFKA_SSL_CA_LOCATION",
           "CA certificates file for TLS to the brokers; empty: the system's",
           [](Config& c) -> std::string& { return c.kafka.ssl_ca_location; }),
      flag("kafka.insecure_skip_tls_verify", "IMGPIPE_KAFKA_INSECURE_SKIP_TLS_VERIFY",
           "Accept any broker certificate (no CA or host name check): testing only, logged as "
           "a warning at every start",
           [](Config& c) -> bool& { return c.kafka.insecure_skip_tls_verify; }),
      number(
          "kafka.partitions", "IMGPIPE_KAFKA_PARTITIONS", "Partitions of the topic setup creates",
          [](Config& c) -> int& { return c.kafka.partitions; }, 1, 10000),
      number(
          "kafka.replication", "IMGPIPE_KAFKA_REPLICATION",
          "Replication factor of the topics setup creates",
          [](Config& c) -> int& { return c.kafka.replication; }, 1, 16),
      number(
          "kafka.session_timeout_ms", "IMGPIPE_KAFKA_SESSION_TIMEOUT_MS",
          "Consumer session timeout; a dead worker's partitions move after this",
          [](Config& c) -> int& { return c.kafka.session_timeout_ms; }, 1000, 3600000),
      text(
          "s3.endpoint", "IMGPIPE_S3_ENDPOINT", "S3 endpoint URL, http(s)://host:port",
          [](Config& c) -> std::string& { return c.s3.endpoint; }, true),
      text(
          "s3.region", "IMGPIPE_S3_REGION", "Region used for request signing",
          [](Config& c) -> std::string& { return c.s3.region; }, true),
      text(
          "s3.access_key", "IMGPIPE_S3_ACCESS_KEY", "S3 access key id",
          [](Config& c) -> std::string& { return c.s3.access_key; }, true),
      text(
          "s3.secret_key", "IMGPIPE_S3_SECRET_KEY", "S3 secret access key",
          [](Config& c) -> std::string& { return c.s3.secret_key; }, true, true),
      flag("s3.path_style", "IMGPIPE_S3_PATH_STYLE",
           "Path-style URLs (host/bucket/key); false for virtual-host style (bucket.host/key)",
           [](Config& c) -> bool& { return c.s3.path_style; }),
      number(
          "s3.connect_timeout_ms", "IMGPIPE_S3_CONNECT_TIMEOUT_MS", "TCP connect timeout",
          [](Config& c) -> int& { return c.s3.connect_timeout_ms; }, 100, 600000),
      number(
          "s3.request_timeout_ms", "IMGPIPE_S3_REQUEST_TIMEOUT_MS", "Whole-request timeout",
          [](Config& c) -> int& { return c.s3.request_timeout_ms; }, 1000, 3600000),
      text("s3.ca_file", "IMGPIPE_S3_CA_FILE",
           "CA certificates file (PEM) an https endpoint's certificate must chain to; empty: the "
           "system's",
           [](Config& c) -> std::string& { return c.s3.ca_file; }),
      flag("s3.insecure_skip_tls_verify", "IMGPIPE_S3_INSECURE_SKIP_TLS_VERIFY",
           "Accept any certificate from an https endpoint (no CA or host name check): testing "
           "only, logged as a warning at every start",
           [](Config& c) -> bool& { return c.s3.insecure_skip_tls_verify; }),
      text(
          "s3.notify_arn", "IMGPIPE_NOTIFY_ARN",
          "Notification target ARN that setup puts on the source bucket",
          [](Config& c) -> std::string& { return c.s3.notify_arn; }, true),
      choice(
          "s3.notifications", "IMGPIPE_S3_NOTIFICATIONS",
          "Who routes events to Kafka: bucket (setup puts a notification on each source "
          "bucket: MinIO, AWS) or server (the server publishes every event itself and "
          "setup leaves buckets alone: versitygw)",
          [](Config& c) -> std::string& { return c.s3.notifications; }, kNotificationModes, true),
      choice(
          "s3.event_keys", "IMGPIPE_S3_EVENT_KEYS",
          "How event records write object keys: query-escaped (MinIO, AWS), raw "
          "(versitygw) or detect (raw when the record is versitygw's)",
          [](Config& c) -> std::string& { return c.s3.event_keys; }, events::key_encoding_names(),
          true),
      text(
          "pipeline.source_bucket", "IMGPIPE_SOURCE_BUCKET", "Bucket whose uploads are processed",
          [](Config& c) -> std::string& { return c.pipeline.source_bucket; }, true),
      text(
          "pipeline.target_bucket", "IMGPIPE_TARGET_BUCKET", "Bucket the outputs are written to",
          [](Config& c) -> std::string& { return c.pipeline.target_bucket; }, true),
      number(
          "pipeline.width", "IMGPIPE_WIDTH", "Width of the box outputs fit in (pixels)",
          [](Config& c) -> int& { return c.pipeline.width; }, 1, 16383),
      number(
          "pipeline.height", "IMGPIPE_HEIGHT", "Height of the box outputs fit in (pixels)",
          [](Config& c) -> int& { return c.pipeline.height; }, 1, 16383),
      number(
          "pipeline.quality", "IMGPIPE_QUALITY",
          "Encoder quality of the default rule's outputs; 0 = the format's default (JPEG 85, "
          "WebP 80, AVIF/HEIF 50)",
          [](Config& c) -> int& { return c.pipeline.quality; }, 0, 100),
      number(
          "pipeline.workers", "IMGPIPE_WORKERS",
          "Images in hand at once (fetching, rendering or writing); 0 = two per render slot "
          "(pipeline.renders)",
          [](Config& c) -> int& { return c.pipeline.workers; }, 0, 256),
      number(
          "pipeline.renders", "IMGPIPE_RENDERS",
          "Of those, images rendered (decoded, resized, encoded) at once, the CPU-bound part; "
          "0 = one per core",
          [](Config& c) -> int& { return c.pipeline.renders; }, 0, 256),
      number(
          "pipeline.max_in_flight", "IMGPIPE_MAX_IN_FLIGHT",
          "Messages taken from Kafka but not finished (queued or running); 0 = 8 x workers, at "
          "least 32",
          [](Config& c) -> int& { return c.pipeline.max_in_flight; }, 0, 10000),
      big_number(
          "pipeline.max_input_bytes", "IMGPIPE_MAX_INPUT_BYTES",
          "Objects larger than this are rejected (too_many_bytes)",
          [](Config& c) -> long long& { return c.pipeline.max_input_bytes; }, 1, 1ll << 40),
      big_number(
          "pipeline.max_input_pixels", "IMGPIPE_MAX_INPUT_PIXELS",
          "Images whose header claims more pixels are rejected before decoding",
          [](Config& c) -> long long& { return c.pipeline.max_input_pixels; }, 1, 1ll << 40),
      number(
          "pipeline.max_frames", "IMGPIPE_MAX_FRAMES",
          "Animated images with more frames are rejected when an output asks for all frames",
          [](Config& c) -> int& { return c.pipeline.max_frames; }, 1, 100000),
      list(
          "pipeline.allowed_formats", "IMGPIPE_ALLOWED_FORMATS",
          "Input formats that are processed; others are rejected (format_not_allowed)",
          [](Config& c) -> std::set<std::string>& { return c.pipeline.allowed_formats; },
          image::format_names()),
      choice(
          "pipeline.fail_on", "IMGPIPE_FAIL_ON",
          "When a damaged image is rejected (never, truncated files, any error, any warning)",
          [](Config& c) -> std::string& { return c.pipeline.fail_on; }, image::fail_on_names(),
          true),
      flag("pipeline.allow_loops", "IMGPIPE_ALLOW_LOOPS",
           "Accept rules whose outputs could match a rule again (the output marker still stops "
           "loops)",
           [](Config& c) -> bool& { return c.pipeline.allow_loops; }),
      number(
          "pipeline.retry_initial_ms", "IMGPIPE_RETRY_INITIAL_MS",
          "First back-off after a transient failure (doubles up to retry_max_ms)",
          [](Config& c) -> int& { return c.pipeline.retry_initial_ms; }, 1, 600000),
      number(
          "pipeline.retry_max_ms", "IMGPIPE_RETRY_MAX_MS", "Longest back-off between retries",
          [](Config& c) -> int& { return c.pipeline.retry_max_ms; }, 1, 3600000),
      number(
          "pipeline.max_attempts", "IMGPIPE_MAX_ATTEMPTS",
          "Tries of one object whose own requests keep failing (timeouts, 5xx while the store "
          "answers) before it is dead-lettered; an outage of the whole store only waits",
          [](Config& c) -> int& { return c.pipeline.max_attempts; }, 1, 1000),
      flag("pipeline.delete_outputs", "IMGPIPE_DELETE_OUTPUTS",
           "A deleted source object takes the outputs derived from it along (only those that "
           "record it as their source, only when it is really gone)",
           [](Config& c) -> bool& { return c.pipeline.delete_outputs; }),
      number(
          "pipeline.shutdown_grace_ms", "IMGPIPE_SHUTDOWN_GRACE_MS",
          "On SIGTERM, how long in-flight work may take before it is abandoned (redelivered later)",
          [](Config& c) -> int& { return c.pipeline.shutdown_grace_ms; }, 0, 3600000),
      text(
          "http.listen", "IMGPIPE_HTTP_LISTEN", "host:port of /healthz, /readyz and /metrics",
          [](Config& c) -> std::string& { return c.http_listen; }, true),
      number(
          "metrics.dlq_interval_ms", "IMGPIPE_METRICS_DLQ_INTERVAL_MS",
          "How often a worker reads the dead-letter topic's watermarks for "
          "imgpipe_dead_letter_topic_records (two small requests per partition)",
          [](Config& c) -> int& { return c.metrics.dlq_interval_ms; }, 100, 3600000),
      text("setup.s3_admin_access_key", "IMGPIPE_SETUP_S3_ADMIN_ACCESS_KEY",
           "setup only: the S3 admin user setup acts as; it then makes s3.access_key a MinIO "
           "user of its own with the policy setup.worker_policy. Empty: setup acts as "
           "s3.access_key and creates no user",
           [](Config& c) -> std::string& { return c.setup.s3_admin_access_key; }),
      text(
          "setup.s3_admin_secret_key", "IMGPIPE_SETUP_S3_ADMIN_SECRET_KEY",
          "setup only: secret key of setup.s3_admin_access_key",
          [](Config& c) -> std::string& { return c.setup.s3_admin_secret_key; }, false, true),
      text(
          "setup.worker_policy", "IMGPIPE_SETUP_WORKER_POLICY",
          "setup only: name of the MinIO policy setup writes for the worker (read the rules' "
          "source buckets, write and delete in their target buckets, nothing else)",
          [](Config& c) -> std::string& { return c.setup.worker_policy; }, true),
      text("setup.kafka_admin_username", "IMGPIPE_SETUP_KAFKA_ADMIN_USERNAME",
           "setup only: the SASL user setup acts as on Kafka; it then grants kafka.sasl_username "
           "read on kafka.topic and kafka.group and write on the dead-letter topic (ACLs). "
           "Empty: setup acts as kafka.sasl_username and grants nothing",
           [](Config& c) -> std::string& { return c.setup.kafka_admin_username; }),
      text(
          "setup.kafka_admin_password", "IMGPIPE_SETUP_KAFKA_ADMIN_PASSWORD",
          "setup only: SASL password of setup.kafka_admin_username",
          [](Config& c) -> std::string& { return c.setup.kafka_admin_password; }, false, true),
      text("setup.kafka_publisher_user", "IMGPIPE_SETUP_KAFKA_PUBLISHER_USER",
           "setup only: the SASL user the object store publishes events as; granted write on "
           "kafka.topic (with setup.kafka_admin_username). Empty: no grant",
           [](Config& c) -> std::string& { return c.setup.kafka_publisher_user; }),
      choice(
          "log.level", "IMGPIPE_LOG_LEVEL", "Least severe level that is logged",
          [](Config& c) -> std::string& { return c.log_level; }, observe::log_level_names(), true),
  };
}

struct Loader {
  Use use = Use::worker;
  Config config;
  std::vector<std::string> problems;

  void apply(const Setting& setting, const std::string& value, const std::string& origin) {
    std::visit([&](const auto& bind) { assign(setting, bind(config), value, origin); },
               setting.bind);
  }

  void assign(const Setting& setting, std::string& target, const std::string& value,
              const std::string& origin) {
    if (setting.choices.empty() || value.empty()) {
      target = value;
    } else if (auto known = find_choice(setting.choices, value)) {
      target = *known;
    } else {
      problems.push_back(setting.path + ": must be one of " + join(setting.choices, ", ") +
                         ", got '" + value + "'" + origin);
    }
  }
  // From the environment: comma-separated items.
  void assign(const Setting& setting, std::set<std::string>& target, const std::string& value,
              const std::string& origin) {
    std::vector<std::string> items;
    for (std::size_t start = 0; start <= value.size();) {
      const auto comma = std::min(value.find(',', start), value.size());
      std::string item = value.substr(start, comma - start);
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      if (!item.empty()) items.push_back(std::move(item));
      start = comma + 1;
    }
    assign_items(
        setting, target, items, [&](std::size_t) { return setting.path; }, origin);
  }
  // Every item must be one of the setting's choices; `where(i)` names item i.
  template <class Where>
  void assign_items(const Setting& setting, std::set<std::string>& target,
                    const std::vector<std::string>& items, Where where, const std::string& origin) {
    std::set<std::string> chosen;
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto known = find_choice(setting.choices, items[i]);
      if (!known) {
        problems.push_back(where(i) + ": must be one of " + join(setting.choices, ", ") +
                           ", got '" + items[i] + "'" + origin);
        continue;
      }
      chosen.insert(*known);
    }
    target = std::move(chosen);
  }
  void assign(const Setting& setting, bool& target, const std::string& value,
              const std::string& origin) {
    const std::string lower = ascii_lower(value);
    if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") {
      target = true;
    } else if (lower == "false" || lower == "0" || lower == "no" || lower == "off") {
      target = false;
    } else {
      problems.push_back(setting.path + ": must be true or false, got '" + value + "'" + origin);
    }
  }
  template <class Number>
  void assign(const Setting& setting, Number& target, const std::string& value,
              const std::string& origin) {
    long long parsed = 0;
    std::size_t used = 0;
    try {
      parsed = std::stoll(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size()) {
      problems.push_back(setting.path + ": must be a whole number, got '" + value + "'" + origin);
      return;
    }
    if (parsed < setting.min || parsed > setting.max) {
      problems.push_back(setting.path + ": must be between " + std::to_string(setting.min) +
                         " and " + std::to_string(setting.max) + ", got " + value + origin);
      return;
    }
    target = static_cast<Number>(parsed);
  }

  const Setting* find(const std::string& path) const {
    for (const auto& setting : settings()) {
      if (setting.path == path) return &setting;
    }
    return nullptr;
  }

  void walk(const YAML::Node& node, const std::string& prefix) {
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        problems.push_back((prefix.empty() ? std::string("(root)") : prefix) +
                           ": keys must be text, not a list or mapping");
        continue;
      }
      const std::string name = entry.first.Scalar();
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      if (entry.second.IsMap()) {
        walk(entry.second, path);
      } else if (path == "rules") {
        config.rules = parse_rules(entry.second, problems);
      } else if (entry.second.IsSequence()) {
        read_list(path, entry.second);
      } else if (entry.second.IsScalar()) {
        const Setting* setting = find(path);
        if (setting != nullptr && setting->is_list()) {
          problems.push_back(path + ": must be a list of " + join(setting->choices, ", "));
        } else if (setting != nullptr) {
          apply(*setting, entry.second.Scalar(), " (config file)");
        } else {
          problems.push_back(path + ": unknown setting");
        }
      } else {
        problems.push_back(path + ": must be a value, not a list");
      }
    }
  }

  void read_list(const std::string& path, const YAML::Node& node) {
    const Setting* setting = find(path);
    if (setting == nullptr) {
      problems.push_back(path + ": unknown setting");
      return;
    }
    auto* bind = std::get_if<std::function<std::set<std::string>&(Config&)>>(&setting->bind);
    if (bind == nullptr) {
      problems.push_back(path + ": must be a value, not a list");
      return;
    }
    std::vector<std::string> items;
    for (std::size_t i = 0; i < node.size(); ++i) {
      items.push_back(node[i].IsScalar() ? node[i].Scalar() : "");
    }
    assign_items(
        *setting, (*bind)(config), items,
        [&](std::size_t i) { return path + "[" + std::to_string(i) + "]"; }, " (config file)");
  }

  void check_loops() {
    if (config.pipeline.allow_loops) return;
    const auto rules = config.effective_rules();
    for (std::size_t i = 0; i < rules.size(); ++i) {
      for (std::size_t j = 0; j < rules[i].outputs.size(); ++j) {
        for (const auto& rule : rules) {
          if (!could_retrigger(rules[i].outputs[j], rule.match)) continue;
          problems.push_back((config.rules.empty() ? std::string("pipeline.target_bucket")
                                                   : "rules[" + std::to_string(i) + "].outputs[" +
                                                         std::to_string(j) + "]") +
                             ": its outputs could trigger rule '" + rule.name +
                             "' again (same bucket, matching key); write elsewhere or set "
                             "pipeline.allow_loops: true");
          break;
        }
      }
    }
  }

  void check_kafka_security() {
    auto& kafka = config.kafka;
    // The values themselves were checked against the table's choices.
    const auto& protocol = kafka.security_protocol;
    if (protocol.rfind("sasl_", 0) == 0) {
      if (kafka.sasl_mechanism.empty())
        problems.push_back("kafka.sasl_mechanism: is required with " + protocol);
      if (kafka.sasl_username.empty())
        problems.push_back("kafka.sasl_username: is required with " + protocol);
      if (kafka.sasl_password.empty())
        problems.push_back("kafka.sasl_password: is required with " + protocol);
    } else if (!kafka.sasl_mechanism.empty() || !kafka.sasl_username.empty()) {
      problems.push_back(
          "kafka.sasl_mechanism: SASL settings need security_protocol sasl_plaintext or sasl_ssl");
    }
  }

  // The privileged identities must come with their secrets and must not be the
  // worker's own (setup would hand the admin's rights to the worker).
  void check_setup_identities() {
    const auto& setup = config.setup;
    if (!setup.s3_admin_access_key.empty()) {
      if (setup.s3_admin_secret_key.empty())
        problems.push_back("setup.s3_admin_secret_key: is required with setup.s3_admin_access_key");
      if (setup.s3_admin_access_key == config.s3.access_key)
        problems.push_back(
            "setup.s3_admin_access_key: must differ from s3.access_key (the worker's own user)");
    }
    if (!setup.kafka_admin_username.empty()) {
      if (setup.kafka_admin_password.empty())
        problems.push_back(
            "setup.kafka_admin_password: is required with setup.kafka_admin_username");
      if (config.kafka.security_protocol.rfind("sasl_", 0) != 0)
        problems.push_back(
            "setup.kafka_admin_username: needs kafka.security_protocol sasl_plaintext or "
            "sasl_ssl");
      if (setup.kafka_admin_username == config.kafka.sasl_username)
        problems.push_back(
            "setup.kafka_admin_username: must differ from kafka.sasl_username (the worker's "
            "own user)");
    }
  }

  void check_required() {
    for (const auto& setting : settings()) {
      if (!setting.required) continue;
      const bool connection =
          setting.path.rfind("kafka.", 0) == 0 || setting.path.rfind("s3.", 0) == 0;
      if (use == Use::local && connection) continue;
      const auto* bind = std::get_if<std::function<std::string&(Config&)>>(&setting.bind);
      if (bind != nullptr && (*bind)(config).empty()) {
        problems.push_back(setting.path + ": is required (set it in the file or " + setting.env +
                           ")");
      }
    }
    const auto& endpoint = config.s3.endpoint;
    if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 &&
        endpoint.rfind("https://", 0) != 0) {
      problems.push_back("s3.endpoint: must start with http:// or https://, got '" + endpoint +
                         "'");
    }
    check_kafka_security();
    check_setup_identities();
    check_loops();
    // The default rule (no rules:) writes {key} once: nothing to check.
    for (auto& problem : key_collision_problems(config.rules))
      problems.push_back(std::move(problem));
    if (config.pipeline.retry_initial_ms > config.pipeline.retry_max_ms) {
      problems.push_back("pipeline.retry_initial_ms: must not exceed pipeline.retry_max_ms");
    }
  }

  Result<Config> finish() {
    check_required();
    if (problems.empty()) return config;
    std::string message;
    for (const auto& problem : problems) message += problem + "\n";
    message.pop_back();
    return make_error(Reason::invalid_config, message);
  }
};

// A secret setting given as a file (<ENV>_FILE, the container convention):
// the file's content without a trailing newline. A file every user may read
// is refused: the secret would not be one.
void read_secret_file(const Setting& setting, const Environment& environment, Loader& loader) {
  const std::string variable = setting.env + "_FILE";
  const auto path = environment(variable);
  if (!path || path->empty()) return;
  auto& problems = loader.problems;
  if (auto direct = environment(setting.env); direct && !direct->empty()) {
    problems.push_back(setting.path + ": set either " + setting.env + " or " + variable +
                       ", not both");
    return;
  }
  struct stat status {};
  if (::stat(path->c_str(), &status) != 0 || !S_ISREG(status.st_mode)) {
    problems.push_back(setting.path + ": " + variable + " names '" + *path +
                       "', which is not a readable file");
    return;
  }
  if ((status.st_mode & S_IROTH) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
    problems.push_back(setting.path + ": " + variable + " names '" + *path +
                       "', which every user may read (mode " + mode +
                       "); make it readable by its owner (and group) only, e.g. chmod 0600, or "
                       "defaultMode 0440 on a Kubernetes Secret volume");
    return;
  }
  std::ifstream file(*path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  std::string secret = content.str();
  if (!file) {
    problems.push_back(setting.path + ": " + variable + ": '" + *path + "' cannot be read");
    return;
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) {
    problems.push_back(setting.path + ": " + variable + ": '" + *path + "' is empty");
    return;
  }
  loader.apply(setting, secret, " (" + variable + ")");
}

Result<Config> load(const std::optional<std::string>& yaml, const Environment& environment,
                    Use use) {
  Loader loader;
  loader.use = use;
  if (yaml) {
    try {
      const YAML::Node root = YAML::Load(*yaml);
      if (root.IsMap()) {
        loader.walk(root, "");
      } else if (!root.IsNull()) {
        loader.problems.push_back("(root): the configuration must be a mapping of settings");
      }
    } catch (const YAML::Exception& error) {
      loader.problems.push_back("(file): not valid YAML: " + std::string(error.what()));
    }
  }
  for (const auto& setting : settings()) {
    if (auto value = environment(setting.env)) {
      loader.apply(setting, *value, " (environment " + setting.env + ")");
    }
    if (setting.secret) read_secret_file(setting, environment, loader);
  }
  return loader.finish();
}

}  // namespace

namespace {
int cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
}  // namespace

// Two jobs per render by default: while one waits for S3, the other renders
// (make bench: one job per core left the cores idle during every GET and PUT).
int Config::effective_workers() const {
  if (pipeline.workers > 0) return pipeline.workers;
  return 2 * (pipeline.renders > 0 ? pipeline.renders : cores());
}

int Config::effective_renders() const {
  return std::min(effective_workers(), pipeline.renders > 0 ? pipeline.renders : cores());
}

std::vector<Rule> Config::effective_rules() const {
  if (!rules.empty()) return rules;
  Output output;
  output.name = "resized";
  output.bucket = pipeline.target_bucket;
  output.recipe.operations.push_back(image::Resize{pipeline.width, pipeline.height});
  output.recipe.encoder.format = "keep";
  output.recipe.encoder.quality = pipeline.quality;
  Rule rule;
  rule.name = "default";
  rule.match.bucket = pipeline.source_bucket;
  rule.outputs.push_back(std::move(output));
  return {rule};
}

image::Limits Config::limits() const {
  image::Limits limits;
  limits.max_input_bytes = static_cast<std::uint64_t>(pipeline.max_input_bytes);
  limits.max_input_pixels = static_cast<std::uint64_t>(pipeline.max_input_pixels);
  limits.max_frames = pipeline.max_frames;
  limits.allowed_formats = pipeline.allowed_formats;
  // load_config() accepted only image::fail_on_names().
  limits.fail_on = image::parse_fail_on(pipeline.fail_on).value_or(image::Limits{}.fail_on);
  return limits;
}

std::string Config::effective_dlq_topic() const {
  return kafka.dlq_topic.empty() ? kafka.topic + ".dlq" : kafka.dlq_topic;
}

int Config::effective_max_in_flight() const {
  // Queued messages are small (the event, not the image): a deep queue keeps
  // the consumer from pausing and resuming its partitions for every message.
  return pipeline.max_in_flight > 0 ? pipeline.max_in_flight
                                    : std::max(32, 8 * effective_workers());
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = declare_settings();
  return table;
}

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<Config> load_config_text(const std::string& yaml, const Environment& environment, Use use) {
  return load(yaml, environment, use);
}

Result<Config> load_config(const std::string& path, const Environment& environment, Use use) {
  if (path.empty()) return load(std::nullopt, environment, use);
  std::ifstream file(path);
  if (!file) return make_error(Reason::invalid_config, path + ": cannot be read");
  std::stringstream content;
  content << file.rdbuf();
  return load(content.str(), environment, use);
}

std::string describe_value(const Setting& setting, const Config& config) {
  if (setting.secret) return "***";
  auto& mutable_config = const_cast<Config&>(config);
  return std::visit(
      [&](const auto& bind) -> std::string {
        const auto& value = bind(mutable_config);
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return value;
        } else if constexpr (std::is_same_v<T, std::set<std::string>>) {
          return join(std::vector<std::string>(value.begin(), value.end()), ",");
        } else if constexpr (std::is_same_v<T, bool>) {
          return value ? "true" : "false";
        } else {
          return std::to_string(value);
        }
      },
      setting.bind);
}

}  // namespace imgpipe::pipeline
