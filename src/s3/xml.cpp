#include "s3/xml.h"

#include <charconv>
#include <cstdint>

namespace imgpipe::s3 {
namespace {

constexpr std::string_view kCdataOpen = "<![CDATA[";
constexpr std::string_view kCdataClose = "]]>";
// Longest reference we decode: "&#x10FFFF;".
constexpr std::size_t kMaxReferenceLength = 10;

struct NamedEntity {
  std::string_view name;
  char value;
};
constexpr NamedEntity kNamedEntities[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
};

bool ends_tag_name(char c) {
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

bool is_valid_code_point(std::uint32_t code_point) {
  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  return code_point != 0 && code_point <= 0x10FFFF && !surrogate;
}

// Decodes the reference name between '&' and ';' (e.g. "amp", "#38", "#x26").
// Returns false when it is not one we know, so the caller keeps it verbatim.
bool decode_reference(std::string_view name, std::string& out) {
  for (const auto& entity : kNamedEntities) {
    if (name == entity.name) {
      out += entity.value;
      return true;
    }
  }
  if (name.size() < 2 || name[0] != '#') return false;
  std::string_view digits = name.substr(1);
  int base = 10;
  if (digits[0] == 'x' || digits[0] == 'X') {
    digits.remove_prefix(1);
    base = 16;
  }
  std::uint32_t code_point = 0;
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, code_point, base);
  if (digits.empty() || ec != std::errc() || ptr != end || !is_valid_code_point(code_point)) {
    return false;
  }
  append_utf8(out, code_point);
  return true;
}

}  // namespace

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> found;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const std::size_t after_name = pos + open.size();
    if (after_name >= xml.size()) break;
    if (!ends_tag_name(xml[after_name])) {
      pos = after_name;  // a longer tag name such as <KeyCount> when looking for <Key>
      continue;
    }
    const std::size_t open_end = xml.find('>', after_name);
    if (open_end == std::string_view::npos) break;
    if (xml[open_end - 1] == '/') {
      found.emplace_back();
      pos = open_end + 1;
      continue;
    }
    const std::size_t content_begin = open_end + 1;
    const std::size_t close_pos = xml.find(close, content_begin);
    if (close_pos == std::string_view::npos) break;
    found.push_back(xml.substr(content_begin, close_pos - content_begin));
    pos = close_pos + close.size();
  }
  return found;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  const auto elements = xml_elements(xml, tag);
  if (elements.empty()) return std::nullopt;
  return xml_decode(elements.front());
}

std::string xml_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, kCdataOpen.size()) == kCdataOpen) {
      const std::size_t begin = i + kCdataOpen.size();
      const std::size_t end = text.find(kCdataClose, begin);
      if (end != std::string_view::npos) {
        out.append(text.substr(begin, end - begin));
        i = end + kCdataClose.size();
        continue;
      }
    }
    if (text[i] == '&') {
      const std::size_t semicolon = text.find(';', i + 1);
      if (semicolon != std::string_view::npos && semicolon - i <= kMaxReferenceLength &&
          decode_reference(text.substr(i + 1, semicolon - i - 1), out)) {
        i = semicolon + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace imgpipe::s3
