#include "kafka/rdkafka_config.h"

#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>

#include "kafka/connection.h"
#include "observe/log.h"

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
        if (auto reason = connection_problem_reason(static_cast<int>(event.err()))) {
          record_connection_problem(*reason, event.str());
        }
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

// The last connection failure of any client in this process.
struct ProblemState {
  std::mutex mutex;
  std::optional<Error> last;
  // A refused certificate or password is logged when the reason changes, and
  // again at most once a minute while it lasts (librdkafka retries every few
  // seconds, each time with a slightly different message).
  std::optional<Reason> last_logged;
  std::chrono::steady_clock::time_point logged_at;
  // Why OpenSSL refused the last broker certificate it refused: librdkafka's
  // own handshake error only says "certificate verify failed".
  std::string certificate_verdict;
};

ProblemState& problem_state() {
  static ProblemState state;
  return state;
}

// Leaves OpenSSL's verdict (CA chain, validity, host name) as it is and keeps
// the reason of a refusal, e.g. "certificate has expired".
class CertificateVerdict final : public RdKafka::SslCertificateVerifyCb {
 public:
  bool ssl_cert_verify_cb(const std::string& broker_name, int32_t /*broker_id*/, int* x509_error,
                          int depth, const char* /*buf*/, size_t /*size*/,
                          std::string& errstr) override {
    if (*x509_error == 0) return true;
    errstr = X509_verify_cert_error_string(*x509_error);
    auto& state = problem_state();
    std::lock_guard lock(state.mutex);
    state.certificate_verdict =
        errstr + " (certificate " + std::to_string(depth) + " of the chain of " + broker_name + ")";
    return false;
  }
};

}  // namespace

std::optional<Reason> connection_problem_reason(int librdkafka_error) {
  switch (static_cast<RdKafka::ErrorCode>(librdkafka_error)) {
    case RdKafka::ERR__SSL: return Reason::tls_failed;
    case RdKafka::ERR__AUTHENTICATION:
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED: return Reason::authentication_failed;
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR__RESOLVE: return Reason::unavailable;
    default: return std::nullopt;
  }
}

void record_connection_problem(Reason reason, const std::string& message) {
  auto& state = problem_state();
  bool log = false;
  std::string full = message;
  {
    std::lock_guard lock(state.mutex);
    if (reason == Reason::tls_failed && !state.certificate_verdict.empty()) {
      full += ": " + state.certificate_verdict;
      state.certificate_verdict.clear();
    }
    state.last = make_error(reason, full);
    // A refused certificate or password does not fix itself: say so, loud.
    const auto now = std::chrono::steady_clock::now();
    log = reason != Reason::unavailable &&
          (state.last_logged != reason || now - state.logged_at >= std::chrono::minutes(1));
    if (log) {
      state.last_logged = reason;
      state.logged_at = now;
    }
  }
  if (log) {
    observe::log_fields(spdlog::level::err, "cannot connect to Kafka",
                        {{"reason", reason_name(reason)}, {"error", full}});
  }
}

std::optional<Error> last_connection_problem() {
  auto& state = problem_state();
  std::lock_guard lock(state.mutex);
  return state.last;
}

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
  static CertificateVerdict verdict;  // stateless itself; called from librdkafka's threads
  if (config->set("ssl_cert_verify_cb", &verdict, error) != RdKafka::Conf::CONF_OK) {
    return make_error(Reason::invalid_config, "ssl_cert_verify_cb: " + error);
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

bool scram_fails_on_kafka4(int version) {
  return version < 0x02060100;  // 2.6.1, whatever its last (pre-release) byte
}

bool scram_fails_on_kafka4() {
  return scram_fails_on_kafka4(RdKafka::version());
}

std::string library_version() {
  return RdKafka::version_str();
}

}  // namespace imgpipe::kafka
