#include "observe/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

namespace imgpipe::observe {
namespace {

TEST(StatusServer, AnswersHealthReadinessAndMetricsOnLoopback) {
  std::atomic<bool> ready{false};
  auto server = StatusServer::start("127.0.0.1:0", [&] {
    return Readiness{ready.load(), ready.load() ? "" : "kafka: not joined"};
  });
  ASSERT_TRUE(server.ok()) << server.error().message;
  httplib::Client client("127.0.0.1", server.value()->port());

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  auto not_ready = client.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_NE(not_ready->body.find("kafka: not joined"), std::string::npos);

  ready = true;
  auto now_ready = client.Get("/readyz");
  ASSERT_TRUE(now_ready);
  EXPECT_EQ(now_ready->status, 200);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("imgpipe_objects_processed_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("\nimgpipe_ready 1\n"), std::string::npos) << metrics->body;

  ready = false;
  auto unready_metrics = client.Get("/metrics");
  ASSERT_TRUE(unready_metrics);
  EXPECT_NE(unready_metrics->body.find("\nimgpipe_ready 0\n"), std::string::npos)
      << unready_metrics->body;
}

TEST(StatusServer, RejectsAListenAddressWithoutPort) {
  auto server = StatusServer::start("localhost", [] { return Readiness{}; });
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().reason, Reason::invalid_config);
}

}  // namespace
}  // namespace imgpipe::observe
