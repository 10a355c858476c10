#pragma once
// The `sqlite:` backend, the embedded default: one SQLite file in WAL mode with
// synchronous=FULL, so apply() returns only after its batch is fsync'd, and one fsync covers a
// whole batch. A second, read-only connection serves queryEvents() while apply() runs.
//
// SQLite itself stays behind this header (src/store/sqlite/sqlite_db.h); callers see only the
// Store interface, the open() options and the restore entry point.

#include <memory>
#include <string>

#include "ledger/store.h"

namespace netledger::store {

struct SqliteOptions {
  // How long a write waits for a lock held by another process before failing kUnavailable.
  int busy_timeout_ms = 5000;
  // false: synchronous=NORMAL, for a copy whose last batches can be rebuilt from elsewhere (an
  // etcd replica's history archive) — a crash may lose them, never corrupt the file.
  bool fsync_each_batch = true;
};

class SqliteStore final : public ledger::Store {
 public:
  // Opens the database at `path`, creating it and its parent directory when missing, and
  // migrates it to the newest schema. kInvalidArgument for an empty path, a file that is not a
  // netledger database, or one written by a newer netledgerd; kUnavailable for I/O failures
  // (unwritable directory, no WAL support).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   SqliteOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Everything, read in one transaction; bindings ascending by id. last_binding_id and
  // last_event_seq are high-water marks that survive deletes and pruning. kInternal naming the
  // record when a stored row cannot be decoded. Serialized with apply().
  Result<ledger::StoreState> load() override;

  // One BEGIN IMMEDIATE ... COMMIT; durable (fsync'd WAL) when it returns OK. Puts with
  // expected_version 0 insert and must not find the record; other puts and all deletes must
  // find exactly expected_version. Quarantine writes are unconditional. On a mismatch the
  // transaction is rolled back and kConflict names the record; kInvalidArgument for an event
  // with seq 0; kUnavailable for I/O errors and lock timeouts. One caller at a time (the
  // committer); a mutex serializes it with load/prune.
  Status apply(const std::vector<ledger::Write>& batch) override;

  // Reads through the separate read-only connection (WAL: never blocked by apply, sees only
  // committed batches). Uses the event_keys index when `key` is set. Thread-safe.
  Result<std::vector<ledger::EventRecord>> queryEvents(const ledger::EventQuery& query) override;

  // Deletes events with time < `before` and their history keys, in one transaction; returns
  // how many events. last_event_seq is unaffected (meta high-water mark).
  Result<std::size_t> pruneEvents(ledger::Millis before) override;

  // A consistent copy of the database at `path` via the online backup API, from its own
  // connections, so apply() keeps running meanwhile. The copy is written beside `path` and
  // linked into place only when complete. kConflict if `path` exists; kUnavailable on I/O
  // failure.
  Status snapshotTo(const std::string& path) override;

  // "sqlite:" + path.
  std::string url() const override;

  const std::string& path() const;

  // The value of `PRAGMA <name>` on the write connection (journal_mode, synchronous,
  // busy_timeout, ...), for diagnostics and tests. `name` must be a bare identifier.
  Result<std::string> pragma(const std::string& name);

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// For `netledgerd --restore FILE`: checks that `snapshot_path` is a netledger database (has a
// schema_version table, a version this build understands, and passes PRAGMA quick_check), then
// copies it to `db_path` (via a temporary file and rename; stale -wal/-shm files of the old
// database are removed first). kConflict if `db_path` exists and `force` is false;
// kInvalidArgument for a file that is not a (healthy) netledger database; kNotFound when the
// snapshot is missing. netledgerd must not have `db_path` open while this runs.
Status restoreSqliteSnapshot(const std::string& snapshot_path, const std::string& db_path,
                             bool force = false);

}  // namespace netledger::store
