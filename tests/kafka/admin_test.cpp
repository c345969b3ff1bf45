#include "kafka/admin.h"

#include <gtest/gtest.h>

namespace imgpipe::kafka {
namespace {

TEST(PipelineGrants, WorkerReadsTopicAndGroupAndWritesDeadLettersPublisherWritesTopic) {
  const auto grants =
      pipeline_grants({"User:imgpipe", "User:minio", "bucket-events", "bucket-events.dlq", "g"});
  const std::vector<AclGrant> expected = {
      {"User:imgpipe", AclResource::topic, "bucket-events", AclOperation::read},
      {"User:imgpipe", AclResource::group, "g", AclOperation::read},
      {"User:imgpipe", AclResource::topic, "bucket-events.dlq", AclOperation::write},
      {"User:minio", AclResource::topic, "bucket-events", AclOperation::write},
  };
  EXPECT_EQ(grants, expected);
  EXPECT_EQ(describe(grants[1]), "allow User:imgpipe to read group g");
  EXPECT_EQ(describe(grants[3]), "allow User:minio to write topic bucket-events");
}

TEST(PipelineGrants, NoPublisherGrantWithoutAPublisher) {
  EXPECT_EQ(pipeline_grants({"User:w", "", "t", "t.dlq", "g"}).size(), 3u);
}

TEST(GrantAcls, NothingToGrantNeedsNoBroker) {
  EXPECT_TRUE(grant_acls(Connection{"127.0.0.1:1", {}}, {}).ok());
}

TEST(GrantAcls, AnUnreachableBrokerTimesOut) {
  const auto status = grant_acls(Connection{"127.0.0.1:1", {}},
                                 {{"User:w", AclResource::topic, "t", AclOperation::read}},
                                 std::chrono::milliseconds(300));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, Reason::timeout);
}

}  // namespace
}  // namespace imgpipe::kafka
