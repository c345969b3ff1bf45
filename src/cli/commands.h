// imgpipe's subcommands. Each returns the process exit status:
// 0 success, 1 a runtime failure (service unreachable, fatal Kafka error),
// 2 invalid configuration or usage.
#pragma once

#include <string>
#include <vector>

namespace imgpipe::cli {

struct CommonOptions {
  std::string config_path;  // --config, or IMGPIPE_CONFIG
};

struct ProcessOptions {
  std::string output_dir;
  std::string bucket = "raw";
  std::vector<std::string> inputs;
};

int run_worker(const CommonOptions& common);
int run_setup(const CommonOptions& common, int partitions_override);
int run_validate(const CommonOptions& common, bool local);
int run_process(const CommonOptions& common, const ProcessOptions& options);
int run_show_config(const CommonOptions& common, bool reference);

struct StatusOptions {
  bool json = false;
  std::vector<std::string> metrics;  // workers' /metrics: host:port or http://host:port/metrics
};
// The consumer group, its partitions and lag, the dead letters by reason and,
// given workers' metrics endpoints, what they do now. 1 when Kafka is unreachable.
int run_status(const CommonOptions& common, const StatusOptions& options);

}  // namespace imgpipe::cli
