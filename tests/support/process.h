// A child process for integration tests: started with extra environment
// variables, its stdout and stderr written to a file, killed (SIGKILL) if
// still running when the object dies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace imgpipe::testing_support {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& output_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal(int signal_number) const;
  // Exit status once the process ended within `timeout`, else nullopt.
  // A process killed by a signal reports 128 + the signal number.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion; returns its exit status and fills `output`.
int run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                std::string& output);

std::string read_file(const std::string& path);

}  // namespace imgpipe::testing_support
