#include "common/hash.h"

#include <gtest/gtest.h>

namespace imgpipe {
namespace {

// The published FNV-1a 64-bit test vectors.
TEST(Fnv1a64, MatchesThePublishedTestVectors) {
  EXPECT_EQ(fnv1a64_hex(""), "cbf29ce484222325");
  EXPECT_EQ(fnv1a64_hex("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(fnv1a64_hex("foobar"), "85944171f73967e8");
}

}  // namespace
}  // namespace imgpipe
