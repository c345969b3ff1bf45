#include "common/sleep.h"

#include <condition_variable>
#include <mutex>

namespace imgpipe {

bool sleep_until(std::chrono::steady_clock::time_point deadline, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_until(lock, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

bool sleep_for(std::chrono::steady_clock::duration duration, std::stop_token stop) {
  return sleep_until(std::chrono::steady_clock::now() + duration, std::move(stop));
}

}  // namespace imgpipe
