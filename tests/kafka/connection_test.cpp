#include "kafka/connection.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

namespace imgpipe::kafka {
namespace {

TEST(ConnectionProblemReason, NamesTlsAndSaslRefusalsAndTellsThemFromOutages) {
  EXPECT_EQ(connection_problem_reason(RdKafka::ERR__SSL), Reason::tls_failed);
  EXPECT_EQ(connection_problem_reason(RdKafka::ERR__AUTHENTICATION), Reason::authentication_failed);
  EXPECT_EQ(connection_problem_reason(RdKafka::ERR_SASL_AUTHENTICATION_FAILED),
            Reason::authentication_failed);
  EXPECT_EQ(connection_problem_reason(RdKafka::ERR__TRANSPORT), Reason::unavailable);
  EXPECT_EQ(connection_problem_reason(RdKafka::ERR__ALL_BROKERS_DOWN), Reason::unavailable);
  EXPECT_EQ(connection_problem_reason(RdKafka::ERR_UNKNOWN_TOPIC_OR_PART), std::nullopt)
      << "not about connecting";
}

TEST(ConnectionProblem, IsTheLastOneRecorded) {
  record_connection_problem(Reason::unavailable, "connection refused");
  record_connection_problem(Reason::authentication_failed, "invalid credentials");
  const auto problem = last_connection_problem();
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->reason, Reason::authentication_failed);
  EXPECT_EQ(problem->message, "invalid credentials");
}

TEST(ScramFailsOnKafka4, BeforeLibrdkafka261) {
  EXPECT_TRUE(scram_fails_on_kafka4(0x020002ff));   // 2.0.2, Debian 12
  EXPECT_TRUE(scram_fails_on_kafka4(0x020600ff));   // 2.6.0 still fails
  EXPECT_FALSE(scram_fails_on_kafka4(0x020601ff));  // 2.6.1 has the fix
  EXPECT_FALSE(scram_fails_on_kafka4(0x020800ff));  // 2.8.0, Debian 13
}

}  // namespace
}  // namespace imgpipe::kafka
