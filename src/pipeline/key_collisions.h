// Output keys that cannot be unique: a key template that renders two source
// keys to one output key, and two outputs that write one key for the same
// object. Either way one output silently overwrites another.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipeline/rules.h"

namespace imgpipe::pipeline {

// Why `key_template` can render two different source keys to one output key
// (render_key() with the same ETag, variant and format), or nullopt when it
// cannot. Unique are the templates that contain {key}, or {dir}/{name}.{ext}
// written together: render_key() splits a key at its last '/' and then at the
// last '.' after it, so that sequence rebuilds the key. Nothing else counts:
// {etag} repeats for equal contents, {variant} and {format} are the same for
// every key of one output, and the rule's match is not looked at (a match that
// takes one key only still needs a unique template, or unique_keys: false).
// Not caught, for every template: keys that differ only by empty path segments
// ("a//x.jpg", "/x.jpg" and "x.jpg"), which render_key() drops, and, for
// {dir}/{name}.{ext}, keys that differ only by a final '.' ("x" and "x.").
// The reason reads like "{name} drops the extension; add {ext} or use {key}".
std::optional<std::string> why_keys_can_meet(const std::string& key_template);

// False only when no object can match both: different buckets, prefixes
// neither of which starts the other, suffixes neither of which ends the other
// (ignoring case) or size ranges that do not meet. Globs and content types are
// not compared, so matches that differ only there count as overlapping.
bool matches_can_overlap(const Match& a, const Match& b);

// True when `a` and `b` write to one bucket and render one key (or sidecar
// key) for some source: their templates give the same key for some shape of
// source key (with or without directory and extension) and input format.
// Does not look at matches; see matches_can_overlap().
bool outputs_can_write_same_key(const Output& a, const Output& b);

// Every key collision in `rules`, one problem per output, with its path:
//   rules[0].outputs[1].key: "thumbs/{name}.webp" can render two source keys
//     to one output key ({name} drops the extension; add {ext} or use {key})
//   rules[1].outputs[0].key: renders the same keys as rules[0].outputs[0] in
//     bucket "processed" (...)
// Outputs with unique_keys false are not checked, alone or in pairs.
std::vector<std::string> key_collision_problems(const std::vector<Rule>& rules);

}  // namespace imgpipe::pipeline
