#include "pipeline/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "observe/log.h"

namespace imgpipe::pipeline {
namespace {

Environment environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

const std::map<std::string, std::string> kCredentials = {{"IMGPIPE_S3_ACCESS_KEY", "key"},
                                                         {"IMGPIPE_S3_SECRET_KEY", "secret"}};

TEST(LoadConfig, DefaultsReproduceTheOriginalDesign) {
  auto config = load_config_text("", environment(kCredentials));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->pipeline.source_bucket, "raw");
  EXPECT_EQ(config->pipeline.target_bucket, "processed");
  EXPECT_EQ(config->pipeline.width, 1024);
  EXPECT_EQ(config->pipeline.height, 1024);
  EXPECT_EQ(config->kafka.topic, "bucket-events");
  EXPECT_EQ(config->kafka.partitions, 6);
  EXPECT_EQ(config->kafka.brokers, "127.0.0.1:9092");
  EXPECT_TRUE(config->s3.path_style);
}

TEST(LoadConfig, FileValuesOverrideDefaultsAndEnvironmentOverridesTheFile) {
  const std::string yaml = R"(
kafka:
  brokers: kafka-a:9092,kafka-b:9092
  partitions: 12
pipeline:
  width: 640
  target_bucket: thumbs
s3:
  path_style: false
)";
  auto env = kCredentials;
  env["IMGPIPE_WIDTH"] = "320";
  auto config = load_config_text(yaml, environment(env));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->kafka.brokers, "kafka-a:9092,kafka-b:9092");
  EXPECT_EQ(config->kafka.partitions, 12);
  EXPECT_EQ(config->pipeline.target_bucket, "thumbs");
  EXPECT_EQ(config->pipeline.width, 320) << "environment wins over the file";
  EXPECT_FALSE(config->s3.path_style);
}

TEST(LoadConfig, ReportsEveryProblemWithItsPath) {
  const std::string yaml = R"(
pipeline:
  width: 0
  height: tall
  colour: blue
kafka:
  partitions: [1, 2]
s3:
  path_style: maybe
)";
  auto config = load_config_text(yaml, environment(kCredentials));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().reason, Reason::invalid_config);
  const auto& message = config.error().message;
  EXPECT_NE(message.find("pipeline.width: must be between 1 and 16383, got 0"), std::string::npos)
      << message;
  EXPECT_NE(message.find("pipeline.height: must be a whole number, got 'tall'"), std::string::npos);
  EXPECT_NE(message.find("pipeline.colour: unknown setting"), std::string::npos);
  EXPECT_NE(message.find("kafka.partitions: must be a value, not a list"), std::string::npos);
  EXPECT_NE(message.find("s3.path_style: must be true or false, got 'maybe'"), std::string::npos);
}

TEST(LoadConfig, NamesTheEnvironmentVariableWhenItIsWrong) {
  auto env = kCredentials;
  env["IMGPIPE_WORKERS"] = "-3";
  auto config = load_config_text("", environment(env));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(
      config.error().message.find(
          "pipeline.workers: must be between 0 and 256, got -3 (environment IMGPIPE_WORKERS)"),
      std::string::npos)
      << config.error().message;
}

TEST(LoadConfig, RequiresCredentials) {
  auto config = load_config_text("", environment({}));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("s3.access_key: is required"), std::string::npos);
  EXPECT_NE(config.error().message.find("s3.secret_key: is required"), std::string::npos);
}

TEST(LoadConfig, RefusesToWriteOutputsIntoTheWatchedBucket) {
  auto env = kCredentials;
  env["IMGPIPE_TARGET_BUCKET"] = "raw";
  auto config = load_config_text("", environment(env));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find(
                "pipeline.target_bucket: its outputs could trigger rule 'default' again"),
            std::string::npos)
      << config.error().message;
}

TEST(LoadConfig, RejectsAnEndpointWithoutScheme) {
  auto env = kCredentials;
  env["IMGPIPE_S3_ENDPOINT"] = "127.0.0.1:9000";
  auto config = load_config_text("", environment(env));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("s3.endpoint: must start with http://"), std::string::npos);
}

// Integration tests lower it to see imgpipe_dead_letter_topic_records within a second.
TEST(LoadConfig, ReadsTheDeadLetterTopicIntervalWithinItsBounds) {
  auto defaults = load_config_text("", environment(kCredentials));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->metrics.dlq_interval_ms, 30000);
  auto env = kCredentials;
  env["IMGPIPE_METRICS_DLQ_INTERVAL_MS"] = "500";
  auto lowered = load_config_text("", environment(env));
  ASSERT_TRUE(lowered.ok());
  EXPECT_EQ(lowered->metrics.dlq_interval_ms, 500);
  auto too_low = load_config_text("metrics:\n  dlq_interval_ms: 10\n", environment(kCredentials));
  ASSERT_FALSE(too_low.ok());
  EXPECT_NE(too_low.error().message.find("metrics.dlq_interval_ms: must be between 100 and"),
            std::string::npos)
      << too_low.error().message;
}

TEST(LoadConfig, ReportsBrokenYaml) {
  auto config = load_config_text("pipeline: [unclosed", environment(kCredentials));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("not valid YAML"), std::string::npos);
}

TEST(LoadConfig, ReportsAMissingFile) {
  auto config = load_config("/nonexistent/imgpipe.yaml", environment(kCredentials));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("cannot be read"), std::string::npos);
}

TEST(Settings, EachHasAUniquePathAndEnvironmentVariable) {
  std::set<std::string> paths, envs;
  for (const auto& setting : settings()) {
    EXPECT_TRUE(paths.insert(setting.path).second) << setting.path;
    EXPECT_TRUE(envs.insert(setting.env).second) << setting.env;
    EXPECT_EQ(setting.env.rfind("IMGPIPE_", 0), 0u) << setting.env;
    EXPECT_FALSE(setting.description.empty()) << setting.path;
  }
}

TEST(DescribeValue, HidesSecrets) {
  auto config = load_config_text("", environment(kCredentials));
  ASSERT_TRUE(config.ok());
  for (const auto& setting : settings()) {
    if (setting.path == "s3.secret_key") {
      EXPECT_EQ(describe_value(setting, *config), "***");
    }
    if (setting.path == "s3.access_key") {
      EXPECT_EQ(describe_value(setting, *config), "key");
    }
  }
}

TEST(Config, DerivesWorkersAndInFlightFromCores) {
  Config config;
  config.pipeline.workers = 3;
  EXPECT_EQ(config.effective_workers(), 3);
  EXPECT_EQ(config.effective_max_in_flight(), 32);  // at least 32: queued events are small
  config.pipeline.workers = 8;
  EXPECT_EQ(config.effective_max_in_flight(), 64);
  config.pipeline.max_in_flight = 5;
  EXPECT_EQ(config.effective_max_in_flight(), 5);
  config.pipeline.workers = 0;
  EXPECT_GE(config.effective_workers(), 1);
}

TEST(Config, KeepsTwoImagesInHandPerRenderSlot) {
  Config config;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(config.effective_renders(), cores);
  EXPECT_EQ(config.effective_workers(), 2 * cores);
  config.pipeline.renders = 3;  // a pod's CPU limit
  EXPECT_EQ(config.effective_renders(), 3);
  EXPECT_EQ(config.effective_workers(), 6);
  config.pipeline.workers = 2;  // never more renders than images in hand
  EXPECT_EQ(config.effective_renders(), 2);
}

}  // namespace
}  // namespace imgpipe::pipeline

namespace imgpipe::pipeline {
namespace {

TEST(LoadConfig, AcceptsSaslSettingsAsAGroup) {
  auto env = kCredentials;
  env["IMGPIPE_KAFKA_SECURITY_PROTOCOL"] = "SASL_SSL";
  env["IMGPIPE_KAFKA_SASL_MECHANISM"] = "SCRAM-SHA-512";
  env["IMGPIPE_KAFKA_SASL_USERNAME"] = "imgpipe";
  env["IMGPIPE_KAFKA_SASL_PASSWORD"] = "secret";
  auto config = load_config_text("", environment(env));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->kafka.security_protocol, "sasl_ssl");
}

TEST(LoadConfig, RefusesIncompleteOrMisplacedSaslSettings) {
  auto env = kCredentials;
  env["IMGPIPE_KAFKA_SECURITY_PROTOCOL"] = "sasl_plaintext";
  env["IMGPIPE_KAFKA_SASL_MECHANISM"] = "GSSAPI";
  auto incomplete = load_config_text("", environment(env));
  ASSERT_FALSE(incomplete.ok());
  EXPECT_NE(incomplete.error().message.find(
                "kafka.sasl_mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, got "
                "'GSSAPI' (environment IMGPIPE_KAFKA_SASL_MECHANISM)"),
            std::string::npos)
      << incomplete.error().message;
  EXPECT_NE(incomplete.error().message.find("kafka.sasl_username: is required with sasl_plaintext"),
            std::string::npos);

  env = kCredentials;
  env["IMGPIPE_KAFKA_SASL_USERNAME"] = "imgpipe";
  auto misplaced = load_config_text("", environment(env));
  ASSERT_FALSE(misplaced.ok());
  EXPECT_NE(misplaced.error().message.find("SASL settings need security_protocol"),
            std::string::npos);

  env = kCredentials;
  env["IMGPIPE_KAFKA_SECURITY_PROTOCOL"] = "kerberos";
  EXPECT_FALSE(load_config_text("", environment(env)).ok());
}

}  // namespace
}  // namespace imgpipe::pipeline

namespace imgpipe::pipeline {
namespace {

// Regression: spdlog::level::from_str("INFO") is `off`, so a level in capitals,
// or one spdlog does not know, switched every log line off without a word.
TEST(LoadConfig, AcceptsALogLevelInAnyCase) {
  auto config = load_config_text("log: {level: INFO}", environment(kCredentials));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->log_level, "info");
}

TEST(LoadConfig, RefusesAnUnknownLogLevelNamingTheSetting) {
  auto from_file = load_config_text("log: {level: verbose}", environment(kCredentials));
  ASSERT_FALSE(from_file.ok());
  EXPECT_NE(from_file.error().message.find("log.level: must be one of trace, debug, info, warn, "
                                           "error, critical, off, got 'verbose'"),
            std::string::npos)
      << from_file.error().message;

  auto env = kCredentials;
  env["IMGPIPE_LOG_LEVEL"] = "loud";
  auto from_environment = load_config_text("", environment(env));
  ASSERT_FALSE(from_environment.ok());
  EXPECT_NE(from_environment.error().message.find("log.level: must be one of"), std::string::npos)
      << from_environment.error().message;
}

}  // namespace
}  // namespace imgpipe::pipeline

namespace imgpipe::pipeline {
namespace {

const Setting& setting_at(const std::string& path) {
  for (const auto& setting : settings()) {
    if (setting.path == path) return setting;
  }
  throw std::out_of_range(path);
}

TEST(Settings, DeclareTheChoicesOfEveryEnumLikeSetting) {
  EXPECT_EQ(setting_at("pipeline.fail_on").choices, image::fail_on_names());
  EXPECT_EQ(setting_at("pipeline.allowed_formats").choices, image::format_names());
  EXPECT_EQ(setting_at("log.level").choices, observe::log_level_names());
  EXPECT_EQ(setting_at("kafka.security_protocol").choices,
            (std::vector<std::string>{"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"}));
  EXPECT_EQ(setting_at("kafka.sasl_mechanism").choices,
            (std::vector<std::string>{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}));
  EXPECT_TRUE(setting_at("pipeline.allowed_formats").is_list());
}

TEST(LoadConfig, TakesChoicesInAnyCaseAndStoresTheDeclaredSpelling) {
  auto env = kCredentials;
  env["IMGPIPE_KAFKA_SECURITY_PROTOCOL"] = "Sasl_Plaintext";
  env["IMGPIPE_KAFKA_SASL_MECHANISM"] = "scram-sha-256";
  env["IMGPIPE_KAFKA_SASL_USERNAME"] = "u";
  env["IMGPIPE_KAFKA_SASL_PASSWORD"] = "p";
  auto config = load_config_text("pipeline: {fail_on: ERROR, allowed_formats: [JPEG, png]}\n",
                                 environment(env));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->kafka.security_protocol, "sasl_plaintext");
  EXPECT_EQ(config->kafka.sasl_mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(config->pipeline.fail_on, "error");
  EXPECT_EQ(config->limits().fail_on, image::FailOn::error);
  EXPECT_EQ(config->pipeline.allowed_formats, (std::set<std::string>{"jpeg", "png"}));
}

TEST(LoadConfig, ReadsAListSettingFromTheEnvironmentCommaSeparated) {
  auto env = kCredentials;
  env["IMGPIPE_ALLOWED_FORMATS"] = "webp, GIF";
  auto config = load_config_text("pipeline: {allowed_formats: [jpeg]}\n", environment(env));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->pipeline.allowed_formats, (std::set<std::string>{"gif", "webp"}))
      << "the environment replaces the file's list";

  env["IMGPIPE_ALLOWED_FORMATS"] = "jpeg,bmp";
  auto refused = load_config_text("", environment(env));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(
      refused.error().message.find("pipeline.allowed_formats: must be one of jpeg, png, webp, "
                                   "gif, tiff, heif, avif, got 'bmp' (environment "
                                   "IMGPIPE_ALLOWED_FORMATS)"),
      std::string::npos)
      << refused.error().message;
}

TEST(LoadConfig, RefusesAListSettingGivenAsOneValueInTheFile) {
  auto config = load_config_text("pipeline: {allowed_formats: jpeg}\n", environment(kCredentials));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("pipeline.allowed_formats: must be a list of jpeg"),
            std::string::npos)
      << config.error().message;
}

TEST(LoadConfig, RefusesEveryValueOutsideTheDeclaredChoices) {
  auto env = kCredentials;
  env["IMGPIPE_FAIL_ON"] = "sometimes";
  auto config = load_config_text("kafka: {security_protocol: kerberos}\nlog: {level: verbose}\n",
                                 environment(env));
  ASSERT_FALSE(config.ok());
  const auto& message = config.error().message;
  EXPECT_NE(message.find("pipeline.fail_on: must be one of none, truncated, error, warning, got "
                         "'sometimes' (environment IMGPIPE_FAIL_ON)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("kafka.security_protocol: must be one of plaintext, ssl, sasl_plaintext, "
                         "sasl_ssl, got 'kerberos' (config file)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("log.level: must be one of"), std::string::npos) << message;
}

TEST(Config, TheSafetyLimitsDefaultToImageLimits) {
  const image::Limits expected;
  const image::Limits limits = Config{}.limits();
  EXPECT_EQ(limits.max_input_bytes, expected.max_input_bytes);
  EXPECT_EQ(limits.max_input_pixels, expected.max_input_pixels);
  EXPECT_EQ(limits.max_frames, expected.max_frames);
  EXPECT_EQ(limits.allowed_formats, expected.allowed_formats);
  EXPECT_EQ(limits.fail_on, expected.fail_on);
  EXPECT_EQ(expected.allowed_formats.size(), image::format_names().size());
}

}  // namespace
}  // namespace imgpipe::pipeline

namespace imgpipe::pipeline {
namespace {

// A file in a fresh temporary folder, removed with it.
class SecretFile {
 public:
  SecretFile(const std::string& content, std::filesystem::perms mode) {
    std::string pattern = (std::filesystem::temp_directory_path() / "imgpipe-secret-XXXXXX");
    folder_ = ::mkdtemp(pattern.data());
    path_ = folder_ / "secret";
    std::ofstream(path_, std::ios::binary) << content;
    std::filesystem::permissions(path_, mode);
  }
  ~SecretFile() { std::filesystem::remove_all(folder_); }
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path folder_, path_;
};

using std::filesystem::perms;

TEST(LoadConfig, ReadsASecretFromTheFileItsFileVariableNames) {
  const SecretFile secret("s3cr3t-from-file\n", perms::owner_read | perms::group_read);
  auto config = load_config_text("", environment({{"IMGPIPE_S3_ACCESS_KEY", "key"},
                                                  {"IMGPIPE_S3_SECRET_KEY_FILE", secret.path()}}));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->s3.secret_key, "s3cr3t-from-file") << "without the trailing newline";
}

TEST(LoadConfig, RefusesASecretFileEveryUserMayRead) {
  const SecretFile secret("s3cr3t-from-file", perms::owner_read | perms::owner_write |
                                                  perms::group_read | perms::others_read);
  auto config = load_config_text("", environment({{"IMGPIPE_S3_ACCESS_KEY", "key"},
                                                  {"IMGPIPE_S3_SECRET_KEY_FILE", secret.path()}}));
  ASSERT_FALSE(config.ok());
  const auto& message = config.error().message;
  EXPECT_NE(message.find("s3.secret_key: IMGPIPE_S3_SECRET_KEY_FILE names '" + secret.path() +
                         "', which every user may read (mode 0644)"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << "the secret is never in a message";
}

TEST(LoadConfig, RefusesASecretGivenTwiceOrAMissingOrEmptySecretFile) {
  const SecretFile empty("\n", perms::owner_read);
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"IMGPIPE_KAFKA_SASL_PASSWORD", "a"}, {"IMGPIPE_KAFKA_SASL_PASSWORD_FILE", empty.path()}},
       "kafka.sasl_password: set either IMGPIPE_KAFKA_SASL_PASSWORD or "
       "IMGPIPE_KAFKA_SASL_PASSWORD_FILE, not both"},
      {{{"IMGPIPE_KAFKA_SASL_PASSWORD_FILE", "/nonexistent/password"}},
       "kafka.sasl_password: IMGPIPE_KAFKA_SASL_PASSWORD_FILE names '/nonexistent/password', "
       "which is not a readable file"},
      {{{"IMGPIPE_KAFKA_SASL_PASSWORD_FILE", empty.path()}},
       "kafka.sasl_password: IMGPIPE_KAFKA_SASL_PASSWORD_FILE: '" + empty.path() + "' is empty"},
  };
  for (const auto& [variables, expected] : cases) {
    auto env = kCredentials;
    env.insert(variables.begin(), variables.end());
    auto config = load_config_text("", environment(env));
    ASSERT_FALSE(config.ok()) << expected;
    EXPECT_NE(config.error().message.find(expected), std::string::npos) << config.error().message;
  }
}

TEST(LoadConfig, TlsVerificationIsOnUnlessTurnedOffExplicitly) {
  auto defaults = load_config_text("", environment(kCredentials));
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_FALSE(defaults->s3.insecure_skip_tls_verify);
  EXPECT_FALSE(defaults->kafka.insecure_skip_tls_verify);
  auto env = kCredentials;
  env["IMGPIPE_S3_CA_FILE"] = "/etc/imgpipe/ca.pem";
  env["IMGPIPE_S3_INSECURE_SKIP_TLS_VERIFY"] = "true";
  auto changed = load_config_text("", environment(env));
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(changed->s3.ca_file, "/etc/imgpipe/ca.pem");
  EXPECT_TRUE(changed->s3.insecure_skip_tls_verify);
}

TEST(LoadConfig, SetupIdentitiesNeedTheirSecretsAndMustNotBeTheWorkers) {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"IMGPIPE_SETUP_S3_ADMIN_ACCESS_KEY", "root"}},
       "setup.s3_admin_secret_key: is required with setup.s3_admin_access_key"},
      {{{"IMGPIPE_SETUP_S3_ADMIN_ACCESS_KEY", "key"}, {"IMGPIPE_SETUP_S3_ADMIN_SECRET_KEY", "x"}},
       "setup.s3_admin_access_key: must differ from s3.access_key"},
      {{{"IMGPIPE_SETUP_KAFKA_ADMIN_USERNAME", "admin"},
        {"IMGPIPE_SETUP_KAFKA_ADMIN_PASSWORD", "x"}},
       "setup.kafka_admin_username: needs kafka.security_protocol sasl_plaintext or sasl_ssl"},
      {{{"IMGPIPE_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"},
        {"IMGPIPE_KAFKA_SASL_MECHANISM", "PLAIN"},
        {"IMGPIPE_KAFKA_SASL_USERNAME", "imgpipe"},
        {"IMGPIPE_KAFKA_SASL_PASSWORD", "p"},
        {"IMGPIPE_SETUP_KAFKA_ADMIN_USERNAME", "imgpipe"}},
       "setup.kafka_admin_username: must differ from kafka.sasl_username"},
      {{{"IMGPIPE_SETUP_KAFKA_ADMIN_USERNAME", "admin"}},
       "setup.kafka_admin_password: is required with setup.kafka_admin_username"},
  };
  for (const auto& [variables, problem] : cases) {
    auto all = variables;
    all.insert({{"IMGPIPE_S3_ACCESS_KEY", "key"}, {"IMGPIPE_S3_SECRET_KEY", "secret"}});
    auto config = load_config_text("", environment(all));
    ASSERT_FALSE(config.ok()) << problem;
    EXPECT_NE(config.error().message.find(problem), std::string::npos) << config.error().message;
  }
}

TEST(LoadConfig, SetupIdentitiesAreAcceptedAndTheirSecretsHidden) {
  auto config =
      load_config_text("setup:\n  worker_policy: my-policy\n  kafka_publisher_user: minio\n",
                       environment({{"IMGPIPE_S3_ACCESS_KEY", "worker"},
                                    {"IMGPIPE_S3_SECRET_KEY", "worker-secret"},
                                    {"IMGPIPE_SETUP_S3_ADMIN_ACCESS_KEY", "root"},
                                    {"IMGPIPE_SETUP_S3_ADMIN_SECRET_KEY", "root-secret"}}));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->setup.s3_admin_access_key, "root");
  EXPECT_EQ(config->setup.worker_policy, "my-policy");
  EXPECT_EQ(config->setup.kafka_publisher_user, "minio");
  for (const auto& setting : settings()) {
    if (setting.path == "setup.s3_admin_secret_key" ||
        setting.path == "setup.kafka_admin_password") {
      EXPECT_EQ(describe_value(setting, *config), "***") << setting.path;
    }
  }
}

}  // namespace
}  // namespace imgpipe::pipeline
