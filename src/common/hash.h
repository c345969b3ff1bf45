// A small, stable, non-cryptographic hash for names that must not change
// between builds or machines (recipe fingerprints, checkpoint names).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace imgpipe {

// FNV-1a (64 bit) of `text` as 16 lower-case hex digits.
std::string fnv1a64_hex(std::string_view text);

}  // namespace imgpipe
