// Checkpoints: the whole persistent state in one file "checkpoint.<position>" of framed
// CheckpointRecords (record_file.h): a header (position, epoch, next ids, counts), then
// every inode, directory entry and chunk. Written to a temporary file, fsynced, renamed
// into place and the directory fsynced, so a checkpoint file is either whole or absent.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "master/master_state.h"

namespace hafs::master {

// Writes the checkpoint of `state` and removes older checkpoints.
Status WriteCheckpoint(const std::string& directory, const MasterState& state);

// Loads the newest checkpoint into *state; false when there is none.
Result<bool> LoadNewestCheckpoint(const std::string& directory, MasterState* state);

}  // namespace hafs::master
