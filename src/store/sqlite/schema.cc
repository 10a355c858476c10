#include "store/sqlite/schema.h"

#include <string>

namespace netledger::store::sqlite {

namespace {

struct Migration {
  int version;
  const char* sql;
};

// Migration 1: everything. Bindings get typed columns (no JSON on the hot start-up path: 1 M rows
// must load in well under 2 s); the small tables keep structured fields as JSON text. MACs are
// INTEGERs (48 bits), NULL when unset. `addresses` is "pool|ip,pool|ip" with '%', '|' and ','
// in pool names percent-escaped. `state` codes are fixed here (0 reserved, 1 active,
// 2 released, 3 expired), not tied to the C++ enum's order.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE schema_version (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
);
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('last_binding_id', 0), ('last_event_seq', 0);
CREATE TABLE pools (
  name       TEXT PRIMARY KEY,
  version    INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data       TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE mac_pools (
  name         TEXT PRIMARY KEY,
  prefix       TEXT NOT NULL,
  strategy     TEXT NOT NULL,
  quarantine_s INTEGER NOT NULL,
  version      INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE bindings (
  id         INTEGER PRIMARY KEY,
  instance   TEXT NOT NULL,
  interface  TEXT NOT NULL,
  mac        INTEGER,
  mac_pool   TEXT NOT NULL,
  addresses  TEXT NOT NULL,
  host       TEXT NOT NULL,
  host_mac   INTEGER,
  service    TEXT NOT NULL,
  tenant     TEXT NOT NULL,
  labels     TEXT NOT NULL,
  state      INTEGER NOT NULL,
  is_static  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version    INTEGER NOT NULL
);
CREATE TABLE tokens (
  name       TEXT PRIMARY KEY,
  sha256_hex TEXT NOT NULL,
  role       TEXT NOT NULL,
  tenants    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  version    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE quarantine (
  kind  TEXT NOT NULL,
  key   TEXT NOT NULL,
  pool  TEXT NOT NULL,
  until INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE events (
  seq         INTEGER PRIMARY KEY,
  time        INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  op          TEXT NOT NULL,
  subject     TEXT NOT NULL,
  keys        TEXT NOT NULL,
  before_json TEXT NOT NULL,
  after_json  TEXT NOT NULL
);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_op ON events (op, seq);
CREATE TABLE event_keys (
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (key, seq)
) WITHOUT ROWID;
)sql";

// 2: the same address can be quarantined in pools of different networks (overlapping pools
// are allowed across networks), so a quarantine row is keyed by its pool too.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE quarantine_v2 (
  kind  TEXT NOT NULL,
  key   TEXT NOT NULL,
  pool  TEXT NOT NULL,
  until INTEGER NOT NULL,
  PRIMARY KEY (kind, pool, key)
) WITHOUT ROWID;
INSERT INTO quarantine_v2 (kind, key, pool, until) SELECT kind, key, pool, until FROM quarantine;
DROP TABLE quarantine;
ALTER TABLE quarantine_v2 RENAME TO quarantine;
)sql";

// 3: a binding's lease length, so renewing keeps it whatever else changed the binding.
constexpr const char* kMigration3 = R"sql(
ALTER TABLE bindings ADD COLUMN ttl_s INTEGER NOT NULL DEFAULT 0;
)sql";

// 4: documents, the generic records of the subsystems above the ledger (conflicts, webhook
// subscriptions, remediation policies). One table keyed by "kind/key" rather than a table per
// subsystem: they are few, small and always loaded whole.
constexpr const char* kMigration4 = R"sql(
CREATE TABLE documents (
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  key        TEXT NOT NULL,
  version    INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  body       TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Append migration N+1 here; never edit or reorder a released one.
constexpr Migration kMigrations[] = {
    {1, kMigration1},
    {2, kMigration2},
    {3, kMigration3},
    {4, kMigration4},
};

bool isEmpty(Connection& db) {
  auto tables = db.queryInt("SELECT count(*) FROM sqlite_master");
  return tables.isOk() && *tables == 0;
}

// Applies `m` unless the database already has it. The version is re-read inside the write
// transaction so two processes opening a fresh file at once cannot both run a migration.
Status applyMigration(Connection& db, const Migration& m, std::int64_t now_ms) {
  NL_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  Status s;
  auto current = schemaVersion(db);
  if (!current) {
    s = current.status();
  } else if (*current == 0 && !isEmpty(db)) {
    // Tables but no schema_version: some other application's database. Adding ours to it would
    // mix two owners in one file.
    s = Status::invalidArgument("sqlite: " + db.path() +
                                ": not a netledger database (no schema_version table)");
  } else if (*current < m.version) {
    s = db.exec(m.sql);
    if (s.isOk()) {
      s = db.exec("INSERT INTO schema_version (version, applied_at) VALUES (" +
                  std::to_string(m.version) + ", " + std::to_string(now_ms) + ")");
    }
  }
  if (s.isOk()) s = db.exec("COMMIT");
  if (!s.isOk()) {
    (void)db.exec("ROLLBACK");  // best effort: the original error is what matters
    return s.withContext("schema migration " + std::to_string(m.version));
  }
  return Status::ok();
}

}  // namespace

int latestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

Result<int> schemaVersion(Connection& db) {
  auto has_table = db.queryInt(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!has_table) return has_table.status();
  if (*has_table == 0) return 0;
  auto version = db.queryInt("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!version) return version.status();
  return static_cast<int>(*version);
}

Status migrate(Connection& db, std::int64_t now_ms) {
  auto current = schemaVersion(db);
  if (!current) return current.status();
  if (*current > latestSchemaVersion()) {
    return Status::invalidArgument("sqlite: " + db.path() + ": schema version " +
                                   std::to_string(*current) + " is newer than this netledgerd (" +
                                   std::to_string(latestSchemaVersion()) + "); upgrade netledgerd");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= *current) continue;
    NL_RETURN_IF_ERROR(applyMigration(db, m, now_ms));
  }
  return Status::ok();
}

}  // namespace netledger::store::sqlite
