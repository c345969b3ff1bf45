// A stable name for "how an output is made": a hash over everything of an
// Output that changes the bytes or the metadata written (operations, colour
// handling, encoder settings, metadata policy, animation, content type,
// extra metadata), but not where it goes (bucket, key template, variant
// name: a new key is a missing output, not an outdated one).
//
// Every output records it (x-amz-meta-imgpipe-recipe). An output whose
// recorded fingerprint differs from the configured one is outdated: the
// worker rewrites it even for the same source version, and
// `imgpipe backfill --changed` finds it. The text hashed starts with a
// version ("v1") so that a future change of the scheme is explicit.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "pipeline/rules.h"

namespace imgpipe::pipeline {

inline constexpr const char* kRecipeMetadata = "imgpipe-recipe";

// The canonical text the fingerprint is taken of (for tests and debugging).
std::string recipe_description(const Output& output);

// 16 lower-case hex digits: FNV-1a (64 bit) of recipe_description().
std::string recipe_fingerprint(const Output& output);

}  // namespace imgpipe::pipeline
