#include "kafka/rdkafka_config.h"

namespace imgpipe::kafka {

Result<std::unique_ptr<RdKafka::Conf>> make_config(
    const std::map<std::string, std::string>& properties) {
  std::unique_ptr<RdKafka::Conf> config(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [name, value] : properties) {
    if (config->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      return make_error(Reason::invalid_config, "kafka property " + name + ": " + error);
    }
  }
  return config;
}

}  // namespace imgpipe::kafka
