// JSON logging: one JSON object per line on stderr, for every spdlog call in
// the process. Plain spdlog::info("text") becomes {"ts","level","msg"};
// log_fields() adds structured fields (key, bytes, ms ...) to the same line.
//
// Thread-safety: spdlog's multi-threaded sink; call init_logging() once from
// main before other threads start.
#pragma once

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe::observe {

// The level names parse_log_level() accepts, most verbose first:
// trace, debug, info, warn, error, critical, off.
const std::vector<std::string>& log_level_names();

// The level of a name in log_level_names(), ignoring ASCII case ("INFO" is
// info); nullopt for any other name. (spdlog::level::from_str would turn an
// unknown name into `off`, silencing every log line.)
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

// json=false gives plain text lines for humans (imgpipe process, setup).
void init_logging(spdlog::level::level_enum level, bool json = true);

// Logs `message` with `fields` merged into the JSON line (insertion order kept).
void log_fields(spdlog::level::level_enum level, std::string_view message,
                const nlohmann::ordered_json& fields);

}  // namespace imgpipe::observe
