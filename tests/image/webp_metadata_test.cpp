#include "image/webp_metadata.h"

#include <gtest/gtest.h>

#include <string>

namespace imgpipe::image {
namespace {

std::string le32(std::size_t value) {
  std::string out;
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

std::string chunk(const std::string& fourcc, const std::string& data) {
  return fourcc + le32(data.size()) + data + (data.size() % 2 == 1 ? std::string(1, '\0') : "");
}

std::string riff(const std::string& chunks) {
  return "RIFF" + le32(4 + chunks.size()) + "WEBP" + chunks;
}

TEST(RemoveWebpMetadata, DropsExifXmpAndIccChunksAndTheirFlags) {
  // VP8X flags: ICC 0x20, alpha 0x10, EXIF 0x08, XMP 0x04.
  const std::string vp8x_all = std::string("\x3C\0\0\0", 4) + std::string(6, '\x01');
  const std::string input =
      riff(chunk("VP8X", vp8x_all) + chunk("ICCP", "profile") + chunk("VP8 ", "pixels") +
           chunk("EXIF", std::string("Exif\0\0MM", 8)) + chunk("XMP ", "<x:xmpmeta/>"));
  auto output = remove_webp_metadata(input);
  ASSERT_TRUE(output.ok()) << output.error().message;
  const std::string vp8x_alpha_only = std::string("\x10\0\0\0", 4) + std::string(6, '\x01');
  EXPECT_EQ(*output, riff(chunk("VP8X", vp8x_alpha_only) + chunk("VP8 ", "pixels")));
}

TEST(RemoveWebpMetadata, KeepsAFileWithoutMetadataAsItIs) {
  const std::string input = riff(chunk("VP8L", "lossless"));
  EXPECT_EQ(remove_webp_metadata(input).value(), input);
}

TEST(RemoveWebpMetadata, RefusesBytesThatAreNotAWellFormedWebpFile) {
  EXPECT_EQ(remove_webp_metadata("not a webp").error().reason, Reason::encode_failed);
  std::string truncated = riff(chunk("VP8 ", "pixels"));
  truncated.resize(truncated.size() - 2);
  EXPECT_EQ(remove_webp_metadata(truncated).error().reason, Reason::encode_failed);
}

}  // namespace
}  // namespace imgpipe::image
