#include "pipeline/config.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

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
  EXPECT_EQ(config.effective_max_in_flight(), 6);
  config.pipeline.workers = 0;
  EXPECT_GE(config.effective_workers(), 1);
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
                "kafka.sasl_mechanism: must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
            std::string::npos);
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
