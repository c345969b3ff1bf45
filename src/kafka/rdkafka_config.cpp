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

namespace imgpipe::kafka {

Message to_message(RdKafka::Message& record) {
  Message message;
  message.partition = TopicPartition{record.topic_name(), record.partition()};
  message.offset = record.offset();
  if (record.key() != nullptr) message.key = *record.key();
  message.payload = std::string(static_cast<const char*>(record.payload()), record.len());
  const auto timestamp = record.timestamp();
  if (timestamp.type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE) {
    message.timestamp_ms = timestamp.timestamp;
  }
  if (RdKafka::Headers* headers = record.headers(); headers != nullptr) {
    for (const auto& header : headers->get_all()) {
      message.headers.emplace_back(
          header.key(),
          header.value() != nullptr
              ? std::string(static_cast<const char*>(header.value()), header.value_size())
              : std::string{});
    }
  }
  return message;
}

}  // namespace imgpipe::kafka
