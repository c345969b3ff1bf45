#include "cli/notification.h"

#include <gtest/gtest.h>

namespace imgpipe::cli {
namespace {

constexpr const char* kArn = "arn:minio:sqs::PRIMARY:kafka";
constexpr const char* kEvent = "s3:ObjectCreated:*";

TEST(AddQueueNotification, WritesAFreshConfigurationForABucketWithoutRules) {
  auto xml = add_queue_notification(
      R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></NotificationConfiguration>)",
      kArn, kEvent);
  ASSERT_TRUE(xml.has_value());
  EXPECT_NE(
      xml->find("<Queue>arn:minio:sqs::PRIMARY:kafka</Queue><Event>s3:ObjectCreated:*</Event>"),
      std::string::npos)
      << *xml;
}

TEST(AddQueueNotification, ChangesNothingWhenTheRuleIsThere) {
  const std::string existing =
      "<NotificationConfiguration><QueueConfiguration><Id>x</"
      "Id><Queue>arn:minio:sqs::PRIMARY:kafka</Queue>"
      "<Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>";
  EXPECT_FALSE(add_queue_notification(existing, kArn, kEvent).has_value());
}

TEST(AddQueueNotification, KeepsRulesSomeoneElseConfigured) {
  const std::string existing =
      "<NotificationConfiguration><QueueConfiguration><Id>audit</"
      "Id><Queue>arn:minio:sqs::AUDIT:webhook</Queue>"
      "<Event>s3:ObjectRemoved:*</Event></QueueConfiguration></NotificationConfiguration>";
  auto xml = add_queue_notification(existing, kArn, kEvent);
  ASSERT_TRUE(xml.has_value());
  EXPECT_NE(xml->find("arn:minio:sqs::AUDIT:webhook"), std::string::npos);
  EXPECT_NE(xml->find("<Queue>arn:minio:sqs::PRIMARY:kafka</Queue>"), std::string::npos);
  EXPECT_EQ(xml->rfind("</NotificationConfiguration>"), xml->size() - 28);
}

TEST(AddQueueNotification, AddsTheRuleWhenTheSameQueueOnlyGetsOtherEvents) {
  const std::string existing =
      "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs::PRIMARY:kafka</Queue>"
      "<Event>s3:ObjectRemoved:*</Event></QueueConfiguration></NotificationConfiguration>";
  EXPECT_TRUE(add_queue_notification(existing, kArn, kEvent).has_value());
}

TEST(AddQueueNotification, HandlesAnEmptyAnswer) {
  auto xml = add_queue_notification("", kArn, kEvent);
  ASSERT_TRUE(xml.has_value());
  EXPECT_EQ(xml->rfind("<NotificationConfiguration", 0), 0u);
}

}  // namespace
}  // namespace imgpipe::cli

namespace imgpipe::cli {
namespace {

TEST(AddQueueNotification, RecognisesTheRuleWhenTheStoreAddsItsRegionToTheArn) {
  const std::string existing =
      "<NotificationConfiguration><QueueConfiguration><Id>1</Id>"
      "<Queue>arn:minio:sqs:us-east-1:PRIMARY:kafka</Queue>"
      "<Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>";
  EXPECT_FALSE(
      add_queue_notification(existing, "arn:minio:sqs::PRIMARY:kafka", "s3:ObjectCreated:*")
          .has_value());
}

TEST(AddQueueNotification, DoesNotConfuseAnotherTargetIdWithOurs) {
  const std::string existing =
      "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs:us-east-1:SECONDARY:"
      "kafka</Queue>"
      "<Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>";
  EXPECT_TRUE(add_queue_notification(existing, "arn:minio:sqs::PRIMARY:kafka", "s3:ObjectCreated:*")
                  .has_value());
}

}  // namespace
}  // namespace imgpipe::cli

namespace imgpipe::cli {
namespace {

// An ARN is written into XML: '&' and '<' must be escaped, or S3 refuses the document.
constexpr const char* kArnThatNeedsEscaping = "arn:minio:sqs::R&D<1>:kafka";

TEST(AddQueueNotification, EscapesTheArnItWrites) {
  auto xml = add_queue_notification("", kArnThatNeedsEscaping, kEvent);
  ASSERT_TRUE(xml.has_value());
  EXPECT_NE(xml->find("<Queue>arn:minio:sqs::R&amp;D&lt;1&gt;:kafka</Queue>"), std::string::npos)
      << *xml;
  EXPECT_EQ(xml->find("R&D"), std::string::npos) << *xml;
}

TEST(AddQueueNotification, RecognisesItsRuleWhenTheStoreAnswersWithEscapedText) {
  const std::string existing =
      "<NotificationConfiguration><QueueConfiguration><Id>imgpipe</Id>"
      "<Queue>arn:minio:sqs:us-east-1:R&amp;D&lt;1&gt;:kafka</Queue>"
      "<Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>";
  EXPECT_FALSE(add_queue_notification(existing, kArnThatNeedsEscaping, kEvent).has_value());
}

TEST(AddQueueNotification, ReadsElementsWithAttributesAndSeveralEvents) {
  const std::string existing =
      "<NotificationConfiguration>\n  <QueueConfiguration xmlns=\"x\">\n"
      "    <Queue>arn:minio:sqs::PRIMARY:kafka</Queue>\n"
      "    <Event>s3:ObjectRemoved:*</Event>\n    <Event>s3:ObjectCreated:*</Event>\n"
      "  </QueueConfiguration>\n</NotificationConfiguration>";
  EXPECT_FALSE(add_queue_notification(existing, kArn, kEvent).has_value());
}

}  // namespace
}  // namespace imgpipe::cli
