#include "pipeline/store_health.h"

#include <gtest/gtest.h>

#include <thread>

#include "pipeline/fakes.h"

namespace imgpipe::pipeline {
namespace {

using namespace std::chrono_literals;

TEST(StoreHealth, IsNotReachableBeforeTheFirstProbe) {
  fakes::FakeStore store;
  ProbedStoreHealth health(store, "raw");
  std::string detail;
  EXPECT_FALSE(health.reachable(&detail));
  EXPECT_EQ(detail, "not asked yet");
  EXPECT_EQ(store.calls("bucket"), 0) << "asking never probes";
}

TEST(StoreHealth, AnswersWhatTheLastProbeFound) {
  fakes::FakeStore store;
  ProbedStoreHealth health(store, "raw");
  store.fail_next("bucket", 1, make_error(Reason::unavailable, "connection refused"));
  health.refresh();
  std::string detail;
  EXPECT_FALSE(health.reachable(&detail));
  EXPECT_EQ(detail, "unavailable: connection refused");
  health.refresh();
  EXPECT_TRUE(health.reachable(&detail));
  EXPECT_EQ(detail, "");
  EXPECT_EQ(store.calls("bucket"), 2);
}

TEST(StoreHealth, ProbesInTheBackgroundUntilDestroyed) {
  fakes::FakeStore store;
  {
    ProbedStoreHealth health(store, "raw");
    health.start_probing(5ms);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (store.calls("bucket") < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_TRUE(health.reachable());
  }
  const int probes = store.calls("bucket");
  EXPECT_GE(probes, 3);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(store.calls("bucket"), probes) << "no probe after destruction";
}

}  // namespace
}  // namespace imgpipe::pipeline
