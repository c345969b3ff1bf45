#include "common/ascii.h"

#include <gtest/gtest.h>

#include <string>

namespace imgpipe {
namespace {

TEST(AsciiLower, LowersOnlyTheAsciiLetters) {
  EXPECT_EQ(ascii_lower("Content-Type: IMAGE/JPEG; Q=1"), "content-type: image/jpeg; q=1");
  EXPECT_EQ(ascii_lower("@[`{"), "@[`{") << "the neighbours of A-Z and a-z stay";
}

TEST(AsciiLower, KeepsEveryByteFrom0x80To0xFFAsItIs) {
  std::string high;
  for (int byte = 0x80; byte <= 0xFF; ++byte) high += static_cast<char>(byte);
  EXPECT_EQ(ascii_lower(high), high);
  EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\x89.JPG"), "\xC3\x89t\xC3\x89.jpg")
      << "UTF-8 (\"ÉTÉ\") keeps its bytes; only the ASCII letters fold";
}

TEST(AsciiIequals, ComparesIgnoringAsciiCaseOnly) {
  EXPECT_TRUE(ascii_iequals("X-Amz-Meta-A", "x-amz-meta-a"));
  EXPECT_FALSE(ascii_iequals("x-amz", "x-amz-meta"));
  EXPECT_FALSE(ascii_iequals("\xC3\x89", "\xC3\xA9")) << "É and é differ: not ASCII";
}

}  // namespace
}  // namespace imgpipe
