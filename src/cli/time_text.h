// Times and ages on the command line (--since, --every).
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

namespace imgpipe::cli {

// "90s", "30m", "2h", "7d" as milliseconds; nullopt for anything else.
std::optional<std::int64_t> parse_age_ms(const std::string& text);

// A UTC time (2026-12-01T10:00:00Z) or an age before `now`, as Unix
// milliseconds; invalid_config saying what is accepted.
Result<std::int64_t> parse_since(const std::string& text,
                                 std::chrono::system_clock::time_point now);

}  // namespace imgpipe::cli
