#include "common/sleep.h"

#include <gtest/gtest.h>

#include <thread>

namespace imgpipe {
namespace {

using namespace std::chrono_literals;

TEST(Sleep, ReturnsTrueWhenTheTimePassed) {
  EXPECT_TRUE(sleep_for(1ms, {}));
  EXPECT_TRUE(sleep_until(std::chrono::steady_clock::now() - 1s, {}));
}

TEST(Sleep, AStopRequestEndsItEarlyAndSaysSo) {
  std::stop_source stop;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(20ms);
    stop.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(sleep_for(1h, stop.get_token()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);  // not the hour
  EXPECT_FALSE(sleep_for(1ms, stop.get_token()));            // already stopped
}

}  // namespace
}  // namespace imgpipe
