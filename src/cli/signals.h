// SIGINT/SIGTERM as a stop request, for the long-running commands (run,
// backfill, reconcile).
//
// Thread-safety: construct it first in main's thread, before any other
// thread exists, so that every thread inherits the blocked signals.
#pragma once

#include <pthread.h>

#include <csignal>
#include <ctime>
#include <functional>
#include <thread>

namespace imgpipe::cli {

// Blocks SIGINT/SIGTERM in every thread (call before starting any) and lets
// one watcher thread turn them into a stop request.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  }

  void start(std::function<void(int)> on_signal) {
    thread_ = std::jthread([this, on_signal = std::move(on_signal)](std::stop_token stop) {
      const timespec tick{0, 200'000'000};
      while (!stop.stop_requested()) {
        const int signal = sigtimedwait(&signals_, nullptr, &tick);
        if (signal > 0) on_signal(signal);
      }
    });
  }

 private:
  sigset_t signals_{};
  std::jthread thread_;
};

}  // namespace imgpipe::cli
