// Where a backfill keeps its checkpoint: one small JSON file per distinct
// command (named by scan_fingerprint()), written atomically (a temporary
// file renamed over the old one), so that a kill at any moment leaves the
// previous checkpoint or the new one, never half of one.
//
// Thread-safety: one CheckpointFile per scan; save() is called from the
// scan's thread only.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "backfill/scan.h"
#include "common/result.h"

namespace imgpipe::backfill {

// $IMGPIPE_STATE_DIR, else $XDG_STATE_HOME/imgpipe, else
// ~/.local/state/imgpipe, else /tmp/imgpipe-state.
std::filesystem::path default_state_dir();

std::string checkpoint_json(const Checkpoint& checkpoint);
Result<Checkpoint> parse_checkpoint(const std::string& json);

class CheckpointFile final : public CheckpointSink {
 public:
  CheckpointFile(std::filesystem::path path, std::string fingerprint);

  // The checkpoint there, nullopt when there is none; invalid_config when the
  // file is unreadable or belongs to another scan (another fingerprint).
  Result<std::optional<Checkpoint>> load() const;
  Status save(const Checkpoint& checkpoint) override;  // sets the fingerprint
  Status remove() const;                               // done, or --restart

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::string fingerprint_;
};

}  // namespace imgpipe::backfill
