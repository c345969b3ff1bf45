#include "cli/dlq.h"

#include <gtest/gtest.h>

namespace imgpipe::cli {
namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

TEST(DlqSince, TakesAnAgeInSecondsMinutesHoursOrDays) {
  EXPECT_EQ(parse_since("90s", kNow).value(), 1'700'000'000'000 - 90'000);
  EXPECT_EQ(parse_since("30m", kNow).value(), 1'700'000'000'000 - 1'800'000);
  EXPECT_EQ(parse_since("2h", kNow).value(), 1'700'000'000'000 - 7'200'000);
  EXPECT_EQ(parse_since("7d", kNow).value(), 1'700'000'000'000 - 604'800'000);
}

TEST(DlqSince, TakesAUtcTime) {
  EXPECT_EQ(parse_since("2023-11-14T22:13:20Z", kNow).value(), 1'700'000'000'000);
  EXPECT_EQ(parse_since("2023-11-14T22:13:20", kNow).value(), 1'700'000'000'000);
}

TEST(DlqSince, RefusesAnythingElseSayingWhatIsAccepted) {
  for (const char* text :
       {"", "yesterday", "5", "5w", "-3h", "2023-11-14", "2023-11-14T22:13:20+01"}) {
    auto since = parse_since(text, kNow);
    ASSERT_FALSE(since.ok()) << text;
    EXPECT_EQ(since.error().reason, Reason::invalid_config);
    EXPECT_NE(since.error().message.find("30m"), std::string::npos);
  }
}

}  // namespace
}  // namespace imgpipe::cli
