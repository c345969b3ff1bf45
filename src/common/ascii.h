// ASCII case folding for protocol text: header names, setting values, file
// suffixes, content types. Only 'A'-'Z' change; every other byte, including
// UTF-8 bytes >= 0x80, is kept as it is, whatever the C locale says
// (std::tolower on a plain char is undefined for bytes >= 0x80).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace imgpipe {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `text` with 'A'-'Z' turned into 'a'-'z'.
std::string ascii_lower(std::string_view text);

// True when `a` and `b` are equal ignoring ASCII case.
bool ascii_iequals(std::string_view a, std::string_view b);

}  // namespace imgpipe
