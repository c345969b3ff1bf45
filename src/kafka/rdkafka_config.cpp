#include "kafka/rdkafka_config.h"

#include <spdlog/spdlog.h>

namespace imgpipe::kafka {
namespace {

// librdkafka's log and error events as log lines. One instance serves every
// client: it holds no state, and librdkafka calls it from its own threads.
class LogBridge final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_LOG:
        log_librdkafka_line(static_cast<int>(event.severity()), event.fac(), event.str());
        break;
      case RdKafka::Event::EVENT_ERROR:
        // Mostly the same news as a log event (connection refused, all
        // brokers down), retried by librdkafka itself; callers see what
        // matters through their own results. Only a fatal one stands out.
        spdlog::log(event.fatal() ? spdlog::level::critical : spdlog::level::debug,
                    "librdkafka error: {}: {}", RdKafka::err2str(event.err()), event.str());
        break;
      default: break;
    }
  }
};

}  // namespace

void log_librdkafka_line(int syslog_level, const std::string& facility, const std::string& text) {
  const auto level = syslog_level <= 2   ? spdlog::level::critical
                     : syslog_level == 3 ? spdlog::level::err
                     : syslog_level == 4 ? spdlog::level::warn
                     : syslog_level <= 6 ? spdlog::level::info
                                         : spdlog::level::debug;
  spdlog::log(level, "librdkafka {}: {}", facility, text);
}

RdKafka::EventCb& log_events() {
  static LogBridge bridge;
  return bridge;
}

Result<std::unique_ptr<RdKafka::Conf>> make_config(
    const std::map<std::string, std::string>& properties) {
  std::unique_ptr<RdKafka::Conf> config(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  if (config->set("event_cb", &log_events(), error) != RdKafka::Conf::CONF_OK) {
    return make_error(Reason::invalid_config, "event_cb: " + error);
  }
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

std::string library_version() {
  return RdKafka::version_str();
}

}  // namespace imgpipe::kafka
