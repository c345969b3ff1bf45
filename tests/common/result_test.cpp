#include "common/result.h"

#include <gtest/gtest.h>

#include <set>

namespace imgpipe {
namespace {

TEST(Result, HoldsAValueOrAnError) {
  Result<int> good = 42;
  Result<int> bad = make_error(Reason::not_an_image, "text file");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value(), 42);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, Reason::not_an_image);
  EXPECT_EQ(bad.error().message, "text file");
}

TEST(Reason, OnlyNetworkAndBrokerConditionsAreTransient) {
  EXPECT_TRUE(is_transient(Reason::unavailable));
  EXPECT_TRUE(is_transient(Reason::timeout));
  EXPECT_TRUE(is_transient(Reason::kafka_error));
  // A refused certificate or password is fixed by an operator, not by the
  // data: the work waits for it instead of being dead-lettered.
  EXPECT_TRUE(is_transient(Reason::tls_failed));
  EXPECT_TRUE(is_transient(Reason::authentication_failed));
  EXPECT_FALSE(is_transient(Reason::object_missing));
  EXPECT_FALSE(is_transient(Reason::not_an_image));
  EXPECT_FALSE(is_transient(Reason::access_denied));
}

TEST(Reason, NamesAreDistinctSnakeCase) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Reason::internal); ++i) {
    const auto name = reason_name(static_cast<Reason>(i));
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos)
        << name;
    EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
  }
}

}  // namespace
}  // namespace imgpipe
