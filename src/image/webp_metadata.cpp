#include "image/webp_metadata.h"

#include <cstdint>

namespace imgpipe::image {
namespace {

// VP8X flag bits (WebP container specification).
constexpr unsigned char kIccFlag = 0x20;
constexpr unsigned char kExifFlag = 0x08;
constexpr unsigned char kXmpFlag = 0x04;
constexpr std::size_t kRiffHeader = 12;  // "RIFF", size, "WEBP"
constexpr std::size_t kChunkHeader = 8;  // fourcc, size

std::uint32_t read_le32(std::string_view bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

void append_le32(std::string& out, std::size_t value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

bool is_metadata_chunk(std::string_view fourcc) {
  return fourcc == "EXIF" || fourcc == "XMP " || fourcc == "ICCP";
}

Error malformed(const std::string& why) {
  return make_error(Reason::encode_failed, "WebP output is not a well-formed RIFF file: " + why);
}

}  // namespace

Result<std::string> remove_webp_metadata(std::string_view webp) {
  if (webp.size() < kRiffHeader || webp.substr(0, 4) != "RIFF" || webp.substr(8, 4) != "WEBP") {
    return malformed("no RIFF/WEBP header");
  }
  std::string chunks;
  for (std::size_t at = kRiffHeader; at < webp.size();) {
    if (webp.size() - at < kChunkHeader) return malformed("truncated chunk header");
    const std::string_view fourcc = webp.substr(at, 4);
    const std::size_t size = read_le32(webp, at + 4);
    const std::size_t padded = size + (size & 1);
    if (webp.size() - at - kChunkHeader < padded) return malformed("chunk runs past the end");
    std::string chunk(webp.substr(at, kChunkHeader + padded));
    at += kChunkHeader + padded;
    if (is_metadata_chunk(fourcc)) continue;
    if (fourcc == "VP8X" && size > 0) {
      chunk[kChunkHeader] = static_cast<char>(static_cast<unsigned char>(chunk[kChunkHeader]) &
                                              ~(kIccFlag | kExifFlag | kXmpFlag));
    }
    chunks += chunk;
  }
  std::string out = "RIFF";
  append_le32(out, 4 + chunks.size());
  out += "WEBP";
  out += chunks;
  return out;
}

}  // namespace imgpipe::image
