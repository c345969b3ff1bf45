#include "observe/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <utility>

#include "common/ascii.h"

namespace imgpipe::observe {
namespace {

// Marks a payload produced by log_fields(): marker, message, marker, fields JSON.
constexpr char kFieldsMarker = '\x1e';

std::string iso_time(std::chrono::system_clock::time_point time) {
  const auto seconds = std::chrono::system_clock::to_time_t(time);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[40];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(length), text,
                static_cast<int>(millis));
  return out;
}

// Renders every record as one JSON object, or for humans as
// "level: message {fields}".
class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(bool json) : json_(json) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string text = json_ ? as_json(msg) : as_text(msg);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(json_);
  }

 private:
  static std::string as_text(const spdlog::details::log_msg& msg) {
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload.front() == kFieldsMarker) {
      payload.erase(0, 1);
      std::replace(payload.begin(), payload.end(), kFieldsMarker, ' ');
    }
    return std::string(level.data(), level.size()) + ": " + payload + "\n";
  }

  static std::string as_json(const spdlog::details::log_msg& msg) {
    nlohmann::ordered_json line;
    line["ts"] = iso_time(msg.time);
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string_view(level.data(), level.size());
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload.front() == kFieldsMarker) {
      payload.remove_prefix(1);
      const auto split = payload.find(kFieldsMarker);
      line["msg"] = payload.substr(0, split);
      auto fields = nlohmann::ordered_json::parse(payload.substr(split + 1), nullptr, false);
      if (fields.is_object()) {
        for (auto& [name, value] : fields.items()) line[name] = value;
      }
    } else {
      line["msg"] = payload;
    }
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }

  bool json_;
};

const std::pair<const char*, spdlog::level::level_enum> kLevels[] = {
    {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
    {"off", spdlog::level::off},
};

}  // namespace

const std::vector<std::string>& log_level_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, level] : kLevels) out.emplace_back(name);
    return out;
  }();
  return names;
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  for (const auto& [known, level] : kLevels) {
    if (ascii_iequals(name, known)) return level;
  }
  return std::nullopt;
}

void init_logging(spdlog::level::level_enum level, bool json) {
  auto logger = spdlog::stderr_logger_mt("imgpipe");
  logger->set_formatter(std::make_unique<LineFormatter>(json));
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void log_fields(spdlog::level::level_enum level, std::string_view message,
                const nlohmann::ordered_json& fields) {
  if (!spdlog::should_log(level)) return;
  std::string payload;
  payload.reserve(message.size() + 64);
  payload += kFieldsMarker;
  payload += message;
  payload += kFieldsMarker;
  payload += fields.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  spdlog::log(level, "{}", payload);
}

}  // namespace imgpipe::observe
