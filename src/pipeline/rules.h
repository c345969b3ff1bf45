// Routing rules: which uploads a rule takes (bucket, prefix, suffix, glob,
// content type, size) and the outputs it makes of each (bucket, key
// template, image recipe, metadata, sidecar).
//
// Thread-safety: plain values; matching and key rendering are pure.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "image/recipe.h"

namespace imgpipe::pipeline {

struct Match {
  std::string bucket;        // required
  std::string prefix;        // key starts with
  std::string suffix;        // key ends with (case-insensitive)
  std::string glob;          // fnmatch(3) pattern on the whole key; '*' also matches '/'
  std::string content_type;  // exact, or "image/*"; checked when the event carries one
  std::uint64_t min_size = 0;
  std::uint64_t max_size = std::numeric_limits<std::uint64_t>::max();
};

struct Output {
  std::string name;    // the variant, {variant} in key templates
  std::string bucket;  // where it is written
  // Placeholders: {key} {dir} {name} {ext} {variant} {etag} {format}
  // (format = the output format's extension, e.g. "webp").
  std::string key_template = "{key}";
  image::Recipe recipe;
  std::map<std::string, std::string> metadata;  // extra x-amz-meta-*
  std::string content_type;                     // empty: from the output format
  bool sidecar = false;                         // also write <key>.json with the image facts
  // False: the user vouches that its keys cannot collide; key_collisions.h
  // does not check this output.
  bool unique_keys = true;
};

struct Rule {
  std::string name;
  Match match;
  std::vector<Output> outputs;
};

struct ObjectRef {
  std::string bucket;
  std::string key;
  std::uint64_t size = 0;
  std::string content_type;  // empty when unknown
};

bool matches(const Match& match, const ObjectRef& object);

struct KeyParts {
  std::string key, etag, variant, format_extension;
};
std::string render_key(const std::string& key_template, const KeyParts& parts);

// Placeholders in a template that render_key() does not know.
std::vector<std::string> unknown_placeholders(const std::string& key_template);

// True when an output written by `output` could be taken by `match` again:
// same bucket and a key template whose fixed prefix/suffix do not rule the
// match's prefix/suffix out. Conservative: "maybe" counts as yes.
bool could_retrigger(const Output& output, const Match& match);

}  // namespace imgpipe::pipeline
