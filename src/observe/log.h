// JSON logging: one JSON object per line on stderr, for every spdlog call in
// the process. Plain spdlog::info("text") becomes {"ts","level","msg"};
// log_fields() adds structured fields (key, bytes, ms ...) to the same line.
//
// Thread-safety: spdlog's multi-threaded sink; call init_logging() once from
// main before other threads start.
#pragma once

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <string_view>

namespace imgpipe::observe {

// level: trace, debug, info, warn, error, critical, off. json=false gives
// plain text lines for humans (imgpipe process, validate).
void init_logging(std::string_view level, bool json = true);

// Logs `message` with `fields` merged into the JSON line (insertion order kept).
void log_fields(spdlog::level::level_enum level, std::string_view message,
                const nlohmann::ordered_json& fields);

}  // namespace imgpipe::observe
