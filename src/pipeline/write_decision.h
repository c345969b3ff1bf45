// Whether an output may be written over what its key already holds. Every
// object imgpipe writes records the source it was derived from (metadata
// imgpipe-source-key, -source-etag, -source-sequencer); before writing, the
// Job reads the existing object's metadata (HEAD) and decides:
//
//   nothing there                            -> write (If-None-Match: *)
//   not written by imgpipe                   -> collision: never overwritten
//   derived from another source key          -> collision (output_key_collision)
//   derived from this very source version    -> up to date: nothing to write,
//     unless it records another recipe fingerprint (recipe_fingerprint.h)
//     or none: outdated, written (If-Match: its ETag)
//   derived from a newer version (sequencer) -> newer exists: never overwritten
//   derived from an older or unknown version -> write (If-Match: its ETag)
//
// The conditional PUT closes the race between that read and the write: if
// another worker wrote in between, the PUT fails (write_conflict) and the
// decision is made again. Together with the GET pinned to the event's ETag
// this keeps a zombie worker (stalled past its session, its partitions long
// reassigned) from putting an old rendering over a newer one.
//
// Sequencers: S3 and MinIO give each event of a key a hexadecimal sequencer
// that grows with time; compared as numbers (leading zeros ignored).
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "s3/object_store.h"

namespace imgpipe::pipeline {

inline constexpr const char* kSourceKeyMetadata = "imgpipe-source-key";
inline constexpr const char* kSourceSequencerMetadata = "imgpipe-source-sequencer";

// The source version an output is rendered from.
struct SourceVersion {
  std::string bucket;
  std::string key;
  std::string etag;
  std::string sequencer;  // empty when unknown
};

// "bucket/key", percent-encoded so that it is a valid metadata value.
std::string source_id(const SourceVersion& source);

// The metadata entries (without x-amz-meta-) that record `source`.
std::map<std::string, std::string> source_metadata(const SourceVersion& source);

// What an output key holds, measured against the source version and the
// recipe fingerprint it would be written with now.
enum class OutputState {
  missing,     // nothing there
  foreign,     // not imgpipe's, or another source key's output
  up_to_date,  // this source version, this recipe
  outdated,    // this source version, another recipe (or none recorded)
  stale,       // an older (or unknown) version of the source
  newer,       // a newer version of the source (greater sequencer)
};

const char* output_state_name(OutputState state);

// `existing`: the output key's current object, nullopt when there is none.
OutputState output_state(const std::optional<s3::ObjectInfo>& existing, const SourceVersion& source,
                         const std::string& recipe);

enum class WriteDecision { write, up_to_date, newer_exists, collision };

// missing, outdated, stale -> write; foreign -> collision; up_to_date;
// newer -> newer_exists.
WriteDecision decide_write(const std::optional<s3::ObjectInfo>& existing,
                           const SourceVersion& source, const std::string& recipe);

// < 0, 0, > 0 like strcmp; nullopt when either is not a hexadecimal number.
std::optional<int> compare_sequencers(const std::string& a, const std::string& b);

// True when `info` records `source`'s key (whatever version).
bool derived_from(const s3::ObjectInfo& info, const SourceVersion& source);

}  // namespace imgpipe::pipeline
