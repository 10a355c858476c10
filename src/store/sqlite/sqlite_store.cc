#include "store/sqlite/sqlite_store.h"
#include "store/overloaded.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <variant>

#include "common/clock.h"
#include "store/conflict.h"
#include "store/sqlite/backup.h"
#include "store/sqlite/record_codec.h"
#include "store/sqlite/row_codec.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/wal_checkpointer.h"

namespace netledger::store {

using ledger::EventQuery;
using ledger::EventRecord;
using ledger::Write;
using sqlite::bindBinding;
using sqlite::bindMacPool;
using sqlite::bindPool;
using sqlite::bindToken;
using sqlite::Connection;
using sqlite::decodeBinding;
using sqlite::decodeEvent;
using sqlite::ScopedReset;
using sqlite::Statement;

namespace {

// Numbered parameters (?N) let one bind function serve both the INSERT and the UPDATE of a
// table; the UPDATE's extra last parameter is the expected version.
constexpr const char* kInsertPool =
    "INSERT INTO pools (name, version, created_at, updated_at, data) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kUpdatePool =
    "UPDATE pools SET version = ?2, created_at = ?3, updated_at = ?4, data = ?5 "
    "WHERE name = ?1 AND version = ?6";
constexpr int kPoolExpected = 6;
constexpr const char* kDeletePool = "DELETE FROM pools WHERE name = ?1 AND version = ?2";

constexpr const char* kInsertMacPool =
    "INSERT INTO mac_pools (name, prefix, strategy, quarantine_s, version, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kUpdateMacPool =
    "UPDATE mac_pools SET prefix = ?2, strategy = ?3, quarantine_s = ?4, version = ?5, "
    "created_at = ?6, updated_at = ?7 WHERE name = ?1 AND version = ?8";
constexpr int kMacPoolExpected = 8;
constexpr const char* kDeleteMacPool = "DELETE FROM mac_pools WHERE name = ?1 AND version = ?2";

// Below this many bindings a second decoding thread costs more than it saves.
constexpr std::int64_t kParallelLoadMinimum = 20'000;

constexpr const char* kBindingColumns =
    "id, instance, interface, mac, mac_pool, addresses, host, host_mac, service, tenant, labels, "
    "state, is_static, expires_at, created_at, updated_at, version, ttl_s";
constexpr const char* kInsertBinding =
    "INSERT INTO bindings (id, instance, interface, mac, mac_pool, addresses, host, host_mac, "
    "service, tenant, labels, state, is_static, expires_at, created_at, updated_at, version, "
    "ttl_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
    "?18)";
constexpr const char* kUpdateBinding =
    "UPDATE bindings SET instance = ?2, interface = ?3, mac = ?4, mac_pool = ?5, addresses = ?6, "
    "host = ?7, host_mac = ?8, service = ?9, tenant = ?10, labels = ?11, state = ?12, "
    "is_static = ?13, expires_at = ?14, created_at = ?15, updated_at = ?16, version = ?17, "
    "ttl_s = ?18 WHERE id = ?1 AND version = ?19";
constexpr int kBindingExpected = 19;
constexpr const char* kDeleteBinding = "DELETE FROM bindings WHERE id = ?1 AND version = ?2";

constexpr const char* kInsertToken =
    "INSERT INTO tokens (name, sha256_hex, role, tenants, created_at, version) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kUpdateToken =
    "UPDATE tokens SET sha256_hex = ?2, role = ?3, tenants = ?4, created_at = ?5, version = ?6 "
    "WHERE name = ?1 AND version = ?7";
constexpr int kTokenExpected = 7;
constexpr const char* kDeleteToken = "DELETE FROM tokens WHERE name = ?1 AND version = ?2";

constexpr const char* kPutQuarantine =
    "INSERT OR REPLACE INTO quarantine (kind, key, pool, until) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kDeleteQuarantine =
    "DELETE FROM quarantine WHERE kind = ?1 AND key = ?2 AND pool = ?3";

constexpr const char* kInsertDocument =
    "INSERT INTO documents (id, kind, key, version, updated_at, body) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kUpdateDocument =
    "UPDATE documents SET kind = ?2, key = ?3, version = ?4, updated_at = ?5, body = ?6 "
    "WHERE id = ?1 AND version = ?7";
constexpr int kDocumentExpected = 7;
constexpr const char* kDeleteDocument = "DELETE FROM documents WHERE id = ?1 AND version = ?2";
constexpr const char* kEventColumns =
    "seq, time, actor, op, subject, keys, before_json, after_json";
constexpr const char* kInsertEvent =
    "INSERT INTO events (seq, time, actor, op, subject, keys, before_json, after_json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
// An event listing the same key twice is indexed once.
constexpr const char* kInsertEventKey =
    "INSERT OR IGNORE INTO event_keys (key, seq) VALUES (?1, ?2)";
// High-water marks only ever rise.
constexpr const char* kRaiseMeta =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) "
    "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)";

// A table whose records carry versions, for the conflict message's "found version N".
struct VersionedTable {
  const char* table;
  const char* key_column;
};
constexpr VersionedTable kPools{"pools", "name"};
constexpr VersionedTable kMacPools{"mac_pools", "name"};
constexpr VersionedTable kBindings{"bindings", "id"};
constexpr VersionedTable kTokens{"tokens", "name"};
constexpr VersionedTable kDocuments{"documents", "id"};

std::int64_t nowMillis() {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  return duration_cast<milliseconds>(SystemClock::instance().now().time_since_epoch()).count();
}

Status ensureParentDirectory(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return Status::ok();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return Status::unavailable("sqlite: cannot create directory " + parent.string() + ": " +
                               ec.message());
  }
  return Status::ok();
}

// The SQL of an event query and its parameters in order. Only the shape of the query goes into
// the text, so the read side can cache one prepared statement per shape.
struct EventSql {
  std::string text;
  std::vector<std::variant<std::int64_t, std::string>> params;
};

// SQLite integers are signed: a cursor past INT64_MAX (callers use UINT64_MAX for "from the
// newest") would wrap negative and match nothing. No stored seq exceeds INT64_MAX.
std::int64_t clampSeq(std::uint64_t seq) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(seq, INT64_MAX));
}

EventSql eventSql(const EventQuery& q) {
  EventSql out;
  std::string& sql = out.text;
  const char* seq = "e.seq";
  if (q.key) {
    // CROSS JOIN keeps event_keys as the outer loop: its (key, seq) primary key yields the
    // matching seqs already in order, so LIMIT stops early.
    sql =
        "SELECT e.seq, e.time, e.actor, e.op, e.subject, e.keys, e.before_json, e.after_json "
        "FROM event_keys k CROSS JOIN events e ON e.seq = k.seq WHERE k.key = ?";
    out.params.emplace_back(*q.key);
    seq = "k.seq";
  } else {
    sql = std::string("SELECT ") + kEventColumns + " FROM events e WHERE 1";
  }
  if (q.after_seq != 0) {
    sql += std::string(" AND ") + seq + " > ?";
    out.params.emplace_back(clampSeq(q.after_seq));
  }
  if (q.before_seq != 0) {
    sql += std::string(" AND ") + seq + " < ?";
    out.params.emplace_back(clampSeq(q.before_seq));
  }
  if (q.op) {
    sql += " AND e.op = ?";
    out.params.emplace_back(*q.op);
  }
  if (q.actor) {
    sql += " AND e.actor = ?";
    out.params.emplace_back(*q.actor);
  }
  // The default window matches everything; the unary '+' keeps the planner from walking the
  // time index (and sorting) for it instead of the seq order.
  bool whole_time = q.from == 0 && q.to == INT64_MAX;
  sql += whole_time ? " AND +e.time >= ? AND +e.time <= ?" : " AND e.time >= ? AND e.time <= ?";
  out.params.emplace_back(q.from);
  out.params.emplace_back(q.to);
  sql += std::string(" ORDER BY ") + seq + (q.before_seq != 0 ? " DESC" : " ASC") + " LIMIT ?";
  out.params.emplace_back(
      static_cast<std::int64_t>(std::min<std::size_t>(q.limit, std::size_t{INT64_MAX})));
  return out;
}

}  // namespace

struct SqliteStore::Impl {
  std::string path;

  // The write side: load, apply, prune. Its statements are prepared once and reused.
  std::mutex write_mu;
  Connection db;
  struct {
    Statement begin, commit, rollback;
    Statement insert_pool, update_pool, delete_pool;
    Statement insert_mac_pool, update_mac_pool, delete_mac_pool;
    Statement insert_binding, update_binding, delete_binding;
    Statement insert_token, update_token, delete_token;
    Statement put_quarantine, delete_quarantine;
    Statement insert_document, update_document, delete_document;
    Statement insert_event, insert_event_key;
    Statement raise_meta;
  } w;

  // The read side: queryEvents, on its own read-only connection so it never waits for apply.
  std::mutex read_mu;
  Connection reader;
  std::map<std::string, Statement> query_cache;
  // Copies the WAL into the database off the writer's path (declared last: it unhooks from
  // `db` before `db` closes).
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer;

  Status prepareWriteStatements();
  Status stepDone(Statement& stmt, std::string_view what);
  Status writeAll(const std::vector<Write>& batch);
  void rollbackIfOpen();

  template <typename BindKey>
  std::optional<std::uint64_t> storedVersion(const VersionedTable& t, BindKey bind_key);
  template <typename BindRow, typename BindKey, typename NameFn>
  Status put(const VersionedTable& t, Statement& insert, Statement& update, int expected_param,
             std::uint64_t expected, BindRow bind_row, BindKey bind_key, NameFn name);
  template <typename BindKey, typename NameFn>
  Status remove(const VersionedTable& t, Statement& del, std::uint64_t expected, BindKey bind_key,
                NameFn name);
  Status appendEvent(const EventRecord& event);
  Status raiseMeta(const char* key, std::uint64_t value);

  // A stored row that does not decode: kInternal naming the file and the record.
  Status corrupt(const Status& s, const std::string& record) const {
    return Status::internal("sqlite: " + path + ": " + record + ": " + s.message());
  }

  Status loadLocked(ledger::StoreState& state);
  // Rows of `conn` matching `where` ("" or a condition on ?1 = split), ascending by id.
  Status decodeBindings(Connection& conn, const std::string& where, std::int64_t split,
                        std::vector<ledger::BindingRecord>& out);
  Status loadBindings(std::vector<ledger::BindingRecord>& out);
  Status loadSmallTables(ledger::StoreState& state);
  Result<std::size_t> pruneLocked(ledger::Millis before);
};

Status SqliteStore::Impl::prepareWriteStatements() {
  struct Entry {
    Statement* stmt;
    const char* sql;
  };
  const Entry entries[] = {
      {&w.begin, "BEGIN IMMEDIATE"},
      {&w.commit, "COMMIT"},
      {&w.rollback, "ROLLBACK"},
      {&w.insert_pool, kInsertPool},
      {&w.update_pool, kUpdatePool},
      {&w.delete_pool, kDeletePool},
      {&w.insert_mac_pool, kInsertMacPool},
      {&w.update_mac_pool, kUpdateMacPool},
      {&w.delete_mac_pool, kDeleteMacPool},
      {&w.insert_binding, kInsertBinding},
      {&w.update_binding, kUpdateBinding},
      {&w.delete_binding, kDeleteBinding},
      {&w.insert_token, kInsertToken},
      {&w.update_token, kUpdateToken},
      {&w.delete_token, kDeleteToken},
      {&w.put_quarantine, kPutQuarantine},
      {&w.delete_quarantine, kDeleteQuarantine},
      {&w.insert_document, kInsertDocument},
      {&w.update_document, kUpdateDocument},
      {&w.delete_document, kDeleteDocument},
      {&w.insert_event, kInsertEvent},
      {&w.insert_event_key, kInsertEventKey},
      {&w.raise_meta, kRaiseMeta},
  };
  for (const Entry& e : entries) {
    auto stmt = db.prepare(e.sql);
    if (!stmt) return stmt.status();
    *e.stmt = std::move(*stmt);
  }
  return Status::ok();
}

Status SqliteStore::Impl::stepDone(Statement& stmt, std::string_view what) {
  ScopedReset reset(stmt);
  int rc = stmt.step();
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::ok();
  return db.error(rc, what);
}

void SqliteStore::Impl::rollbackIfOpen() {
  // After some errors (I/O, full disk) SQLite has already rolled back; a second ROLLBACK would
  // only add a confusing error.
  if (sqlite3_get_autocommit(db.handle()) == 0) (void)stepDone(w.rollback, "ROLLBACK");
}

template <typename BindKey>
std::optional<std::uint64_t> SqliteStore::Impl::storedVersion(const VersionedTable& t,
                                                              BindKey bind_key) {
  // Only on the conflict path, so prepared on demand rather than cached.
  auto stmt = db.prepare(std::string("SELECT version FROM ") + t.table + " WHERE " + t.key_column +
                         " = ?1");
  if (!stmt) return std::nullopt;
  bind_key(*stmt);
  if (stmt->step() != SQLITE_ROW) return std::nullopt;
  return stmt->uint64(0);
}

template <typename BindRow, typename BindKey, typename NameFn>
Status SqliteStore::Impl::put(const VersionedTable& t, Statement& insert, Statement& update,
                              int expected_param, std::uint64_t expected, BindRow bind_row,
                              BindKey bind_key, NameFn name) {
  Statement& stmt = expected == 0 ? insert : update;
  ScopedReset reset(stmt);
  bind_row(stmt);
  if (expected != 0) stmt.bind(expected_param, expected);
  int rc = stmt.step();
  bool conflict = (rc == SQLITE_DONE && expected != 0 && sqlite3_changes(db.handle()) == 0) ||
                  (rc & 0xff) == SQLITE_CONSTRAINT;
  if (conflict) return versionConflict(name(), expected, storedVersion(t, bind_key));
  if (rc != SQLITE_DONE) return db.error(rc, "write " + name());
  return Status::ok();
}

template <typename BindKey, typename NameFn>
Status SqliteStore::Impl::remove(const VersionedTable& t, Statement& del, std::uint64_t expected,
                                 BindKey bind_key, NameFn name) {
  ScopedReset reset(del);
  bind_key(del);
  del.bind(2, expected);
  int rc = del.step();
  if (rc != SQLITE_DONE) return db.error(rc, "delete " + name());
  if (sqlite3_changes(db.handle()) == 0) {
    return versionConflict(name(), expected, storedVersion(t, bind_key));
  }
  return Status::ok();
}

Status SqliteStore::Impl::appendEvent(const EventRecord& e) {
  if (e.seq == 0) return Status::invalidArgument("event: seq must be set (> 0)");
  {
    Statement& s = w.insert_event;
    ScopedReset reset(s);
    s.bind(1, e.seq);
    s.bind(2, e.time);
    s.bind(3, e.actor);
    s.bind(4, e.op);
    s.bind(5, e.subject);
    s.bind(6, sqlite::encodeStringList(e.keys));
    s.bind(7, e.before);
    s.bind(8, e.after);
    int rc = s.step();
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return Status::conflict(eventRecordName(e.seq) + ": already exists");
    }
    if (rc != SQLITE_DONE) return db.error(rc, "append " + eventRecordName(e.seq));
  }
  for (const auto& key : e.keys) {
    Statement& s = w.insert_event_key;
    ScopedReset reset(s);
    s.bind(1, key);
    s.bind(2, e.seq);
    int rc = s.step();
    if (rc != SQLITE_DONE) return db.error(rc, "index " + eventRecordName(e.seq));
  }
  return Status::ok();
}

Status SqliteStore::Impl::raiseMeta(const char* key, std::uint64_t value) {
  w.raise_meta.bind(1, std::string_view(key));
  w.raise_meta.bind(2, value);
  return stepDone(w.raise_meta, "raise meta");
}

Status SqliteStore::Impl::writeAll(const std::vector<Write>& batch) {
  std::uint64_t max_binding_id = 0, max_event_seq = 0;
  for (const Write& write : batch) {
    Status s = std::visit(
        Overloaded{
            [&](const ledger::PutPool& x) {
              return put(
                  kPools, w.insert_pool, w.update_pool, kPoolExpected, x.expected_version,
                  [&](Statement& s) { bindPool(s, x.pool); },
                  [&](Statement& s) { s.bind(1, x.pool.name); },
                  [&] { return poolRecordName(x.pool.name); });
            },
            [&](const ledger::DeletePool& x) {
              return remove(
                  kPools, w.delete_pool, x.expected_version,
                  [&](Statement& s) { s.bind(1, x.name); }, [&] { return poolRecordName(x.name); });
            },
            [&](const ledger::PutMacPool& x) {
              return put(
                  kMacPools, w.insert_mac_pool, w.update_mac_pool, kMacPoolExpected,
                  x.expected_version, [&](Statement& s) { bindMacPool(s, x.pool); },
                  [&](Statement& s) { s.bind(1, x.pool.name); },
                  [&] { return macPoolRecordName(x.pool.name); });
            },
            [&](const ledger::DeleteMacPool& x) {
              return remove(
                  kMacPools, w.delete_mac_pool, x.expected_version,
                  [&](Statement& s) { s.bind(1, x.name); },
                  [&] { return macPoolRecordName(x.name); });
            },
            [&](const ledger::PutBinding& x) {
              max_binding_id = std::max(max_binding_id, x.binding.id);
              return put(
                  kBindings, w.insert_binding, w.update_binding, kBindingExpected,
                  x.expected_version, [&](Statement& s) { bindBinding(s, x.binding); },
                  [&](Statement& s) { s.bind(1, x.binding.id); },
                  [&] { return bindingRecordName(x.binding.id); });
            },
            [&](const ledger::DeleteBinding& x) {
              return remove(
                  kBindings, w.delete_binding, x.expected_version,
                  [&](Statement& s) { s.bind(1, x.id); }, [&] { return bindingRecordName(x.id); });
            },
            [&](const ledger::PutToken& x) {
              return put(
                  kTokens, w.insert_token, w.update_token, kTokenExpected, x.expected_version,
                  [&](Statement& s) { bindToken(s, x.token); },
                  [&](Statement& s) { s.bind(1, x.token.name); },
                  [&] { return tokenRecordName(x.token.name); });
            },
            [&](const ledger::DeleteToken& x) {
              return remove(
                  kTokens, w.delete_token, x.expected_version,
                  [&](Statement& s) { s.bind(1, x.name); },
                  [&] { return tokenRecordName(x.name); });
            },
            [&](const ledger::PutQuarantine& x) {
              Statement& s = w.put_quarantine;
              s.bind(1, x.entry.kind);
              s.bind(2, x.entry.key);
              s.bind(3, x.entry.pool);
              s.bind(4, x.entry.until);
              return stepDone(s, "put quarantine " + x.entry.kind + " " + x.entry.key);
            },
            [&](const ledger::DeleteQuarantine& x) {
              Statement& s = w.delete_quarantine;
              s.bind(1, x.kind);
              s.bind(2, x.key);
              s.bind(3, x.pool);
              return stepDone(s, "delete quarantine " + x.kind + " " + x.key);
            },
            [&](const ledger::PutDocument& x) {
              const auto& d = x.document;
              const std::string id = documentId(d.kind, d.key);
              return put(
                  kDocuments, w.insert_document, w.update_document, kDocumentExpected,
                  x.expected_version,
                  [&](Statement& s) {
                    s.bind(1, id);
                    s.bind(2, d.kind);
                    s.bind(3, d.key);
                    s.bind(4, d.version);
                    s.bind(5, d.updated_at);
                    s.bind(6, d.body);
                  },
                  [&](Statement& s) { s.bind(1, id); },
                  [&] { return documentRecordName(d.kind, d.key); });
            },
            [&](const ledger::DeleteDocument& x) {
              const std::string id = documentId(x.kind, x.key);
              return remove(
                  kDocuments, w.delete_document, x.expected_version,
                  [&](Statement& s) { s.bind(1, id); },
                  [&] { return documentRecordName(x.kind, x.key); });
            },
            [&](const ledger::AppendEvent& x) {
              max_event_seq = std::max(max_event_seq, x.event.seq);
              return appendEvent(x.event);
            },
        },
        write);
    if (!s.isOk()) return s;
  }
  if (max_binding_id != 0) NL_RETURN_IF_ERROR(raiseMeta("last_binding_id", max_binding_id));
  if (max_event_seq != 0) NL_RETURN_IF_ERROR(raiseMeta("last_event_seq", max_event_seq));
  return Status::ok();
}

Status SqliteStore::Impl::decodeBindings(Connection& conn, const std::string& where,
                                         std::int64_t split,
                                         std::vector<ledger::BindingRecord>& out) {
  auto stmt = conn.prepare(std::string("SELECT ") + kBindingColumns + " FROM bindings " + where +
                           " ORDER BY id");
  if (!stmt) return stmt.status();
  if (!where.empty()) stmt->bind(1, split);
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    ledger::BindingRecord& b = out.emplace_back();
    Status s = decodeBinding(*stmt, b);
    if (!s.isOk()) return corrupt(s, bindingRecordName(b.id));
  }
  if (rc != SQLITE_DONE) return conn.error(rc, "load bindings");
  return Status::ok();
}

Status SqliteStore::Impl::loadBindings(std::vector<ledger::BindingRecord>& out) {
  auto count = db.queryInt("SELECT count(*) FROM bindings");
  if (!count) return count.status();
  out.reserve(static_cast<std::size_t>(*count));
  if (*count < kParallelLoadMinimum || std::thread::hardware_concurrency() < 2) {
    return decodeBindings(db, "", 0, out);
  }
  // Decoding dominates start-up (a million rows), so two threads each decode half, the upper
  // half through the reader connection. Both see the same snapshot: the caller holds the write
  // lock (BEGIN IMMEDIATE), so nothing can commit between the two read transactions.
  auto split = db.queryInt("SELECT id FROM bindings ORDER BY id LIMIT 1 OFFSET " +
                           std::to_string(*count / 2));
  if (!split) return split.status();
  std::lock_guard read_lock(read_mu);
  NL_RETURN_IF_ERROR(reader.exec("BEGIN"));
  std::vector<ledger::BindingRecord> upper;
  upper.reserve(static_cast<std::size_t>(*count - *count / 2));
  Status upper_status;
  auto decode_upper = [&] {
    upper_status = decodeBindings(reader, "WHERE id >= ?1", *split, upper);
  };
  std::optional<std::thread> helper;
  try {
    helper.emplace(decode_upper);
  } catch (const std::system_error&) {
    // No thread to be had: decode both halves here, just slower.
  }
  Status lower_status = decodeBindings(db, "WHERE id < ?1", *split, out);
  if (helper) {
    helper->join();
  } else {
    decode_upper();
  }
  (void)reader.exec("COMMIT");  // read-only: ending it cannot lose anything
  NL_RETURN_IF_ERROR(lower_status);
  NL_RETURN_IF_ERROR(upper_status);
  out.insert(out.end(), std::make_move_iterator(upper.begin()),
             std::make_move_iterator(upper.end()));
  return Status::ok();
}

Status SqliteStore::Impl::loadSmallTables(ledger::StoreState& state) {
  auto pools = db.prepare("SELECT name, version, created_at, updated_at, data FROM pools");
  if (!pools) return pools.status();
  int rc;
  while ((rc = pools->step()) == SQLITE_ROW) {
    ledger::PoolRecord& p = state.pools.emplace_back();
    p.name.assign(pools->text(0));
    p.version = pools->uint64(1);
    p.created_at = pools->int64(2);
    p.updated_at = pools->int64(3);
    Status s = sqlite::decodePoolData(pools->text(4), p);
    if (!s.isOk()) return corrupt(s, poolRecordName(p.name));
  }
  if (rc != SQLITE_DONE) return db.error(rc, "load pools");

  auto macs = db.prepare(
      "SELECT name, prefix, strategy, quarantine_s, version, created_at, updated_at "
      "FROM mac_pools");
  if (!macs) return macs.status();
  while ((rc = macs->step()) == SQLITE_ROW) {
    ledger::MacPoolRecord& p = state.mac_pools.emplace_back();
    p.name.assign(macs->text(0));
    auto prefix = addr::MacPrefix::parse(macs->text(1));
    if (!prefix) return corrupt(prefix.status(), macPoolRecordName(p.name));
    p.prefix = *prefix;
    auto strategy = alloc::parseMacStrategy(macs->text(2));
    if (!strategy) return corrupt(strategy.status(), macPoolRecordName(p.name));
    p.strategy = *strategy;
    p.quarantine_s = macs->int64(3);
    p.version = macs->uint64(4);
    p.created_at = macs->int64(5);
    p.updated_at = macs->int64(6);
  }
  if (rc != SQLITE_DONE) return db.error(rc, "load mac pools");

  auto tokens =
      db.prepare("SELECT name, sha256_hex, role, tenants, created_at, version FROM tokens");
  if (!tokens) return tokens.status();
  while ((rc = tokens->step()) == SQLITE_ROW) {
    ledger::TokenRecord& t = state.tokens.emplace_back();
    t.name.assign(tokens->text(0));
    t.sha256_hex.assign(tokens->text(1));
    auto role = ledger::parseRole(tokens->text(2));
    if (!role) return corrupt(role.status(), tokenRecordName(t.name));
    t.role = *role;
    Status s = sqlite::decodeStringList(tokens->text(3), t.tenants);
    if (!s.isOk()) return corrupt(s, tokenRecordName(t.name));
    t.created_at = tokens->int64(4);
    t.version = tokens->uint64(5);
  }
  if (rc != SQLITE_DONE) return db.error(rc, "load tokens");

  auto quarantine = db.prepare("SELECT kind, key, pool, until FROM quarantine");
  if (!quarantine) return quarantine.status();
  while ((rc = quarantine->step()) == SQLITE_ROW) {
    ledger::QuarantineRecord& q = state.quarantine.emplace_back();
    q.kind.assign(quarantine->text(0));
    q.key.assign(quarantine->text(1));
    q.pool.assign(quarantine->text(2));
    q.until = quarantine->int64(3);
  }
  if (rc != SQLITE_DONE) return db.error(rc, "load quarantine");
  auto documents =
      db.prepare("SELECT kind, key, version, updated_at, body FROM documents ORDER BY id");
  if (!documents) return documents.status();
  while ((rc = documents->step()) == SQLITE_ROW) {
    ledger::DocumentRecord& d = state.documents.emplace_back();
    d.kind.assign(documents->text(0));
    d.key.assign(documents->text(1));
    d.version = documents->uint64(2);
    d.updated_at = documents->int64(3);
    d.body.assign(documents->text(4));
  }
  if (rc != SQLITE_DONE) return db.error(rc, "load documents");
  return Status::ok();
}

Status SqliteStore::Impl::loadLocked(ledger::StoreState& state) {
  NL_RETURN_IF_ERROR(loadSmallTables(state));
  NL_RETURN_IF_ERROR(loadBindings(state.bindings));
  std::uint64_t max_id = 0;
  for (const auto& b : state.bindings) max_id = std::max(max_id, b.id);
  auto meta_id = db.queryInt("SELECT value FROM meta WHERE key = 'last_binding_id'");
  if (!meta_id) return meta_id.status();
  state.last_binding_id = std::max(max_id, static_cast<std::uint64_t>(*meta_id));
  auto max_seq = db.queryInt("SELECT coalesce(max(seq), 0) FROM events");
  if (!max_seq) return max_seq.status();
  auto meta_seq = db.queryInt("SELECT value FROM meta WHERE key = 'last_event_seq'");
  if (!meta_seq) return meta_seq.status();
  state.last_event_seq =
      std::max(static_cast<std::uint64_t>(*max_seq), static_cast<std::uint64_t>(*meta_seq));
  return Status::ok();
}

Result<std::size_t> SqliteStore::Impl::pruneLocked(ledger::Millis before) {
  auto victims = db.prepare("SELECT seq, keys FROM events WHERE time < ?1");
  if (!victims) return victims.status();
  auto drop_key = db.prepare("DELETE FROM event_keys WHERE key = ?1 AND seq = ?2");
  if (!drop_key) return drop_key.status();
  auto drop_events = db.prepare("DELETE FROM events WHERE time < ?1");
  if (!drop_events) return drop_events.status();

  // Keys are deleted by their primary key, from each event's own key list, so pruning costs
  // what it removes rather than a scan of event_keys.
  victims->bind(1, before);
  int rc;
  std::vector<std::string> keys;
  while ((rc = victims->step()) == SQLITE_ROW) {
    std::uint64_t seq = victims->uint64(0);
    if (!sqlite::decodeStringList(victims->text(1), keys).isOk()) {
      return Status::internal("sqlite: " + path + ": " + eventRecordName(seq) +
                              ": stored keys are malformed");
    }
    for (const auto& key : keys) {
      ScopedReset reset(*drop_key);
      drop_key->bind(1, key);
      drop_key->bind(2, seq);
      int drc = drop_key->step();
      if (drc != SQLITE_DONE) return db.error(drc, "prune event keys");
    }
  }
  if (rc != SQLITE_DONE) return db.error(rc, "prune events");
  drop_events->bind(1, before);
  rc = drop_events->step();
  if (rc != SQLITE_DONE) return db.error(rc, "prune events");
  return static_cast<std::size_t>(sqlite3_changes(db.handle()));
}

// --- SqliteStore ---

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       SqliteOptions options) {
  if (path.empty()) return Status::invalidArgument("sqlite: empty database path");
  NL_RETURN_IF_ERROR(ensureParentDirectory(path));
  auto impl = std::make_unique<Impl>();
  impl->path = path;

  auto db = Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return db.status();
  impl->db = std::move(*db);
  Connection& c = impl->db;
  if (sqlite3_busy_timeout(c.handle(), options.busy_timeout_ms) != SQLITE_OK) {
    return c.error(SQLITE_ERROR, "busy_timeout");
  }
  // Reading the header first turns "file is not a database" into a clear kInvalidArgument
  // before any PRAGMA tries to write to it.
  auto pages = c.queryInt("SELECT count(*) FROM sqlite_master");
  if (!pages) {
    return Status::invalidArgument("sqlite: " + path + ": not a netledger database (" +
                                   pages.status().message() + ")");
  }
  auto mode = c.queryText("PRAGMA journal_mode = WAL");
  if (!mode) return mode.status();
  if (*mode != "wal") {
    return Status::unavailable("sqlite: " + path + ": cannot use WAL mode (journal_mode is " +
                               *mode + ")");
  }
  // FULL: the WAL is fsync'd at every commit, so an acknowledged batch survives power loss.
  // The cache keeps the B-tree interior pages of a million bindings resident. The size limit
  // lets the WAL shrink back after a burst of large batches (it never does by default).
  NL_RETURN_IF_ERROR(c.exec(std::string("PRAGMA synchronous = ") +
                            (options.fsync_each_batch ? "FULL" : "NORMAL") +
                            "; PRAGMA cache_size = -16384; PRAGMA journal_size_limit = 67108864"));
  NL_RETURN_IF_ERROR(sqlite::migrate(c, nowMillis()));
  NL_RETURN_IF_ERROR(impl->prepareWriteStatements());

  auto reader = Connection::open(path, SQLITE_OPEN_READONLY);
  if (!reader) return reader.status();
  impl->reader = std::move(*reader);
  if (sqlite3_busy_timeout(impl->reader.handle(), options.busy_timeout_ms) != SQLITE_OK) {
    return impl->reader.error(SQLITE_ERROR, "busy_timeout");
  }
  auto checkpointer = sqlite::WalCheckpointer::start(
      path, options.fsync_each_batch ? "FULL" : "NORMAL", options.busy_timeout_ms);
  if (!checkpointer) return checkpointer.status();
  impl->checkpointer = std::move(*checkpointer);
  impl->checkpointer->attach(impl->db.handle());
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Result<ledger::StoreState> SqliteStore::load() {
  std::lock_guard lock(impl_->write_mu);
  // One transaction that also holds the write lock: a consistent state even if another process
  // shared the file, and the same snapshot for the reader connection that decodes in parallel.
  NL_RETURN_IF_ERROR(impl_->stepDone(impl_->w.begin, "BEGIN IMMEDIATE"));
  ledger::StoreState state;
  Status s = impl_->loadLocked(state);
  impl_->rollbackIfOpen();  // nothing was written
  // Reading every row filled both connections' page caches (16 MiB and ~2 MiB) with pages the
  // writer will not touch again: give them back, as a steady-state server would hold them.
  sqlite3_db_release_memory(impl_->db.handle());
  {
    std::lock_guard read_lock(impl_->read_mu);
    sqlite3_db_release_memory(impl_->reader.handle());
  }
  if (!s.isOk()) return s;
  return state;
}

Status SqliteStore::apply(const std::vector<Write>& batch) {
  std::lock_guard lock(impl_->write_mu);
  NL_RETURN_IF_ERROR(impl_->stepDone(impl_->w.begin, "BEGIN IMMEDIATE"));
  Status s = impl_->writeAll(batch);
  if (s.isOk()) s = impl_->stepDone(impl_->w.commit, "COMMIT");
  if (!s.isOk()) impl_->rollbackIfOpen();
  return s;
}

Result<std::vector<EventRecord>> SqliteStore::queryEvents(const EventQuery& query) {
  std::vector<EventRecord> out;
  if (query.limit == 0) return out;
  EventSql sql = eventSql(query);
  std::lock_guard lock(impl_->read_mu);
  auto it = impl_->query_cache.find(sql.text);
  if (it == impl_->query_cache.end()) {
    auto stmt = impl_->reader.prepare(sql.text);
    if (!stmt) return stmt.status();
    it = impl_->query_cache.emplace(sql.text, std::move(*stmt)).first;
  }
  Statement& stmt = it->second;
  ScopedReset reset(stmt);  // ends the statement's read transaction
  for (std::size_t i = 0; i < sql.params.size(); ++i) {
    int index = static_cast<int>(i) + 1;
    std::visit([&](const auto& v) { stmt.bind(index, v); }, sql.params[i]);
  }
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    Status s = decodeEvent(stmt, out.emplace_back());
    if (!s.isOk()) return impl_->corrupt(s, eventRecordName(out.back().seq));
  }
  if (rc != SQLITE_DONE) return impl_->reader.error(rc, "query events");
  return out;
}

Result<std::size_t> SqliteStore::pruneEvents(ledger::Millis before) {
  std::lock_guard lock(impl_->write_mu);
  NL_RETURN_IF_ERROR(impl_->stepDone(impl_->w.begin, "BEGIN IMMEDIATE"));
  auto pruned = impl_->pruneLocked(before);
  Status s = pruned.isOk() ? impl_->stepDone(impl_->w.commit, "COMMIT") : pruned.status();
  if (!s.isOk()) {
    impl_->rollbackIfOpen();
    return s;
  }
  return pruned;
}

Status SqliteStore::snapshotTo(const std::string& path) {
  // No lock: the backup reads through its own connection in one read transaction, which WAL
  // lets run beside apply() and still yields the state of a single commit.
  return sqlite::backupToNewFile(impl_->path, path);
}

std::string SqliteStore::url() const { return "sqlite:" + impl_->path; }

const std::string& SqliteStore::path() const { return impl_->path; }

Result<std::string> SqliteStore::pragma(const std::string& name) {
  bool bare = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!bare) return Status::invalidArgument("pragma: \"" + name + "\" is not an identifier");
  std::lock_guard lock(impl_->write_mu);
  return impl_->db.queryText("PRAGMA " + name);
}

Status restoreSqliteSnapshot(const std::string& snapshot_path, const std::string& db_path,
                             bool force) {
  return sqlite::restoreSnapshot(snapshot_path, db_path, force);
}

}  // namespace netledger::store
