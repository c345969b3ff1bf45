#include "cli/time_text.h"

#include <charconv>
#include <ctime>

namespace imgpipe::cli {
namespace {

Error since_error(const std::string& text) {
  return make_error(Reason::invalid_config,
                    "--since: expected a UTC time like 2026-12-01T10:00:00Z or an age like 90s, "
                    "30m, 2h, 7d; got '" +
                        text + "'");
}

}  // namespace

std::optional<std::int64_t> parse_age_ms(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t amount = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size() - 1, amount);
  if (error != std::errc() || end != text.data() + text.size() - 1 || amount < 0) {
    return std::nullopt;
  }
  switch (text.back()) {
    case 's': return amount * 1000;
    case 'm': return amount * 60'000;
    case 'h': return amount * 3'600'000;
    case 'd': return amount * 86'400'000;
    default: return std::nullopt;
  }
}

Result<std::int64_t> parse_since(const std::string& text,
                                 std::chrono::system_clock::time_point now) {
  if (auto age = parse_age_ms(text)) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() -
           *age;
  }
  std::tm utc{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
  const std::string_view rest = end == nullptr ? "?" : end;
  if (rest != "Z" && !rest.empty()) {
    return since_error(text);
  }
  return static_cast<std::int64_t>(timegm(&utc)) * 1000;
}

}  // namespace imgpipe::cli
