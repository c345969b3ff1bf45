// imgpipe's subcommands. Each returns the process exit status:
// 0 success, 1 a runtime failure (service unreachable, fatal Kafka error),
// 2 invalid configuration or usage.
#pragma once

#include <string>

namespace imgpipe::cli {

struct CommonOptions {
  std::string config_path;  // --config, or IMGPIPE_CONFIG
};

int run_worker(const CommonOptions& common);
int run_setup(const CommonOptions& common, int partitions_override);
int run_validate(const CommonOptions& common);
int run_show_config(const CommonOptions& common, bool reference);

}  // namespace imgpipe::cli
