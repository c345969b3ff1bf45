#include "observe/log.h"

#include <gtest/gtest.h>

namespace imgpipe::observe {
namespace {

TEST(ParseLogLevel, KnowsEveryListedNameInAnyCase) {
  EXPECT_EQ(parse_log_level("info"), spdlog::level::info);
  EXPECT_EQ(parse_log_level("INFO"), spdlog::level::info);
  EXPECT_EQ(parse_log_level("Warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("error"), spdlog::level::err);
  EXPECT_EQ(parse_log_level("off"), spdlog::level::off);
  for (const auto& name : log_level_names()) EXPECT_TRUE(parse_log_level(name)) << name;
}

TEST(ParseLogLevel, RefusesNamesItDoesNotKnowInsteadOfTurningLoggingOff) {
  EXPECT_EQ(parse_log_level("verbose"), std::nullopt);
  EXPECT_EQ(parse_log_level(""), std::nullopt);
  EXPECT_EQ(parse_log_level("information"), std::nullopt);
}

}  // namespace
}  // namespace imgpipe::observe
