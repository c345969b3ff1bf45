// `imgpipe dlq list|replay`: the dead-letter topic for people. list prints
// what failed for good (a table, or JSON lines); replay puts the selected
// messages back on the event topic, e.g. after fixing the cause, and says
// how many. Replaying twice replays twice; a message that fails again is
// dead-lettered again, as a new record.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "cli/commands.h"
#include "cli/time_text.h"
#include "common/result.h"

namespace imgpipe::cli {

struct DlqOptions {
  std::string reason;      // --reason
  std::string since;       // --since: 2026-12-01T10:00:00Z, or an age: 90s, 30m, 2h, 7d
  std::string key_prefix;  // --key-prefix
  bool json = false;       // list --json
  bool dry_run = false;    // replay --dry-run
};

int run_dlq_list(const CommonOptions& common, const DlqOptions& options);
int run_dlq_replay(const CommonOptions& common, const DlqOptions& options);

}  // namespace imgpipe::cli
