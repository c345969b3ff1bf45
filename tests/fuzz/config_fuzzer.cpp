// Configuration and rules from hostile YAML: load_config_text() must answer
// (a Config or invalid_config with the problems), never throw or crash, and
// a Config it accepts must give at least one rule with outputs.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_check.h"
#include "pipeline/config.h"

using imgpipe::Reason;
using namespace imgpipe::pipeline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  // The connection settings a worker needs, so that the fuzzer gets past them
  // into the rules; the YAML may override every one.
  const Environment environment = [](const std::string& name) -> std::optional<std::string> {
    if (name == "IMGPIPE_KAFKA_BROKERS") return "127.0.0.1:9092";
    if (name == "IMGPIPE_S3_ENDPOINT") return "http://127.0.0.1:9000";
    return std::nullopt;
  };
  for (Use use : {Use::worker, Use::local}) {
    auto config = load_config_text(yaml, environment, use);
    if (!config) {
      FUZZ_CHECK(config.error().reason == Reason::invalid_config);
      FUZZ_CHECK(!config.error().message.empty());
      continue;
    }
    for (const auto& setting : settings()) {
      (void)describe_value(setting, *config);
    }
    if (use == Use::worker) {
      const auto rules = config->effective_rules();
      FUZZ_CHECK(!rules.empty());
      for (const auto& rule : rules) FUZZ_CHECK(!rule.outputs.empty());
    }
  }
  return 0;
}
