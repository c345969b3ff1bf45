#include "pipeline/store_health.h"

#include <gtest/gtest.h>

#include <thread>

#include "pipeline/fakes.h"

namespace imgpipe::pipeline {
namespace {

using namespace std::chrono_literals;

TEST(StoreHealth, AReachableAnswerIsReusedWhileFresh) {
  fakes::FakeStore store;
  ProbedStoreHealth health(store, "raw", 10s, 0ms);
  EXPECT_TRUE(health.reachable());
  EXPECT_TRUE(health.reachable());
  EXPECT_EQ(store.calls("bucket"), 1);
}

TEST(StoreHealth, AnOutageIsAskedAgainSoThatRecoveryIsSeenAtOnce) {
  fakes::FakeStore store;
  ProbedStoreHealth health(store, "raw", 10s, 0ms);
  store.fail_next("bucket", 2, make_error(Reason::unavailable, "connection refused"));
  std::string detail;
  EXPECT_FALSE(health.reachable(&detail));
  EXPECT_EQ(detail, "connection refused");
  std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(health.reachable());
  std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(health.reachable(&detail));
  EXPECT_EQ(detail, "");
  EXPECT_EQ(store.calls("bucket"), 3);
}

}  // namespace
}  // namespace imgpipe::pipeline
