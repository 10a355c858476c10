#pragma once
// The SQLite schema and its migrations. Each migration is appended, never edited: a database
// created by an older netledgerd is brought forward one version at a time, each version in its
// own transaction together with its row in `schema_version`.

#include <cstdint>

#include "common/status.h"
#include "store/sqlite/sqlite_db.h"

namespace netledger::store::sqlite {

// The version this build creates and understands.
int latestSchemaVersion();

// The version recorded in `db`: 0 when it has no `schema_version` table (a fresh or foreign
// file), kInternal/kUnavailable when it cannot be read.
Result<int> schemaVersion(Connection& db);

// Brings `db` to latestSchemaVersion(), applying the missing migrations in order; `now_ms` is
// recorded as applied_at. Refuses (kInvalidArgument) a database newer than this build, which
// could hold data this code would silently drop.
Status migrate(Connection& db, std::int64_t now_ms);

}  // namespace netledger::store::sqlite
