#pragma once
// Whole-database copies through the SQLite online backup API: snapshots of a live store and
// restores of a snapshot. A copy is built in a temporary file beside its destination and moved
// into place only when complete, so a crash mid-copy never leaves a plausible-looking file.

#include <string>

#include "common/status.h"

namespace netledger::store::sqlite {

// Copies the database at `source` (which may be in use) to the new file `dest`; the copy holds
// the state of one commit. kConflict if `dest` exists.
Status backupToNewFile(const std::string& source, const std::string& dest);

// See store::restoreSqliteSnapshot.
Status restoreSnapshot(const std::string& snapshot, const std::string& db_path, bool force);

}  // namespace netledger::store::sqlite
