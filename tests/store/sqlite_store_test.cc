// What only the SQLite backend promises: the schema and its migrations, the durability pragmas,
// crash durability, lock timeouts as kUnavailable, corrupt rows as errors (not crashes), and
// snapshot restore. Everything shared with memory: is in store_conformance_test.cc.
#include "store/sqlite/sqlite_store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store_test_util.h"

namespace netledger::store {
namespace {

using ledger::StoreState;
using ledger::Write;
using namespace testing_util;  // NOLINT: test helpers

std::unique_ptr<SqliteStore> openOrDie(const std::string& path, SqliteOptions options = {}) {
  auto s = SqliteStore::open(path, options);
  EXPECT_TRUE(s.isOk()) << s.status().toString();
  return s.isOk() ? std::move(*s) : nullptr;
}

sqlite::Connection rawConnection(const std::string& path) {
  auto c = sqlite::Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  EXPECT_TRUE(c.isOk()) << c.status().toString();
  return c.isOk() ? std::move(*c) : sqlite::Connection();
}

std::int64_t queryInt(sqlite::Connection& c, const std::string& sql) {
  auto v = c.queryInt(sql);
  EXPECT_TRUE(v.isOk()) << sql << ": " << v.status().toString();
  return v.valueOr(-1);
}

std::vector<Write> sampleBatch() {
  return {ledger::PutPool{fullPool("lab"), 0},
          ledger::PutBinding{fullBinding(1), 0},
          ledger::PutBinding{minimalBinding(2), 0},
          ledger::PutMacPool{fullMacPool("macs"), 0},
          ledger::PutToken{fullToken("ci"), 0},
          ledger::AppendEvent{event(1, 5, "binding.allocate", "a", {"ip:10.20.0.5"})}};
}

TEST(SqliteStoreTest, RecordsTheSchemaVersion) {
  TempDir dir;
  std::string path = dir.file("ledger.db");
  openOrDie(path).reset();
  auto c = rawConnection(path);
  EXPECT_EQ(queryInt(c, "SELECT max(version) FROM schema_version"), sqlite::latestSchemaVersion());
  EXPECT_EQ(queryInt(c, "SELECT count(*) FROM schema_version"), sqlite::latestSchemaVersion());
  for (const char* table :
       {"pools", "mac_pools", "bindings", "tokens", "quarantine", "events", "event_keys", "meta"}) {
    EXPECT_EQ(queryInt(c, std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                      "AND name = '") +
                              table + "'"),
              1)
        << table;
  }
  // event_keys is clustered on (key, seq): WITHOUT ROWID.
  auto sql = c.queryText("SELECT sql FROM sqlite_master WHERE name = 'event_keys'");
  ASSERT_TRUE(sql.isOk());
  EXPECT_NE(sql->find("WITHOUT ROWID"), std::string::npos);
}

TEST(SqliteStoreTest, UsesWalAndSynchronousFull) {
  TempDir dir;
  auto store = openOrDie(dir.file("ledger.db"));
  ASSERT_TRUE(store);
  EXPECT_EQ(store->pragma("journal_mode").valueOr(""), "wal");
  EXPECT_EQ(store->pragma("synchronous").valueOr(""), "2");  // FULL
  EXPECT_EQ(store->pragma("busy_timeout").valueOr(""), "5000");
  EXPECT_EQ(store->pragma("journal_mode; DROP TABLE x").status().code(),
            StatusCode::kInvalidArgument);
  // WAL is a property of the file: a fresh connection sees it too.
  auto c = rawConnection(dir.file("ledger.db"));
  EXPECT_EQ(c.queryText("PRAGMA journal_mode").valueOr(""), "wal");
}

TEST(SqliteStoreTest, CreatesTheParentDirectory) {
  TempDir dir;
  auto store = openOrDie(dir.file("a/b/c/ledger.db"));
  ASSERT_TRUE(store);
  EXPECT_EQ(store->url(), "sqlite:" + dir.file("a/b/c/ledger.db"));
}

TEST(SqliteStoreTest, RefusesEmptyPathAndForeignFiles) {
  TempDir dir;
  EXPECT_EQ(SqliteStore::open("").status().code(), StatusCode::kInvalidArgument);

  std::string text = dir.file("notes.txt");
  std::ofstream(text) << "this is not a database, just some text long enough to look like one"
                      << std::string(200, 'x');
  auto s = SqliteStore::open(text);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().toString();

  std::string other = dir.file("other.db");
  {
    auto c = rawConnection(other);
    ASSERT_TRUE(c.exec("CREATE TABLE foo (x INTEGER)").isOk());
  }
  s = SqliteStore::open(other);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().toString();
  EXPECT_NE(s.status().message().find("not a netledger database"), std::string::npos);
}

TEST(SqliteStoreTest, RefusesANewerSchema) {
  TempDir dir;
  std::string path = dir.file("ledger.db");
  openOrDie(path).reset();
  {
    auto c = rawConnection(path);
    ASSERT_TRUE(c.exec("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)").isOk());
  }
  auto s = SqliteStore::open(path);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().toString();
}

// Schema version 1 exactly as released, frozen here: when migration 2 is appended this test
// still builds a version-1 file and proves the upgrade keeps its data.
constexpr const char* kFrozenSchemaV1 = R"sql(
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('last_binding_id', 0), ('last_event_seq', 0);
CREATE TABLE pools (name TEXT PRIMARY KEY, version INTEGER NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE mac_pools (name TEXT PRIMARY KEY, prefix TEXT NOT NULL, strategy TEXT NOT NULL,
  quarantine_s INTEGER NOT NULL, version INTEGER NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE bindings (id INTEGER PRIMARY KEY, instance TEXT NOT NULL, interface TEXT NOT NULL,
  mac INTEGER, mac_pool TEXT NOT NULL, addresses TEXT NOT NULL, host TEXT NOT NULL,
  host_mac INTEGER, service TEXT NOT NULL, tenant TEXT NOT NULL, labels TEXT NOT NULL,
  state INTEGER NOT NULL, is_static INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, version INTEGER NOT NULL);
CREATE TABLE tokens (name TEXT PRIMARY KEY, sha256_hex TEXT NOT NULL, role TEXT NOT NULL,
  tenants TEXT NOT NULL, created_at INTEGER NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE quarantine (kind TEXT NOT NULL, key TEXT NOT NULL, pool TEXT NOT NULL,
  until INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE events (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL,
  op TEXT NOT NULL, subject TEXT NOT NULL, keys TEXT NOT NULL, before_json TEXT NOT NULL,
  after_json TEXT NOT NULL);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_op ON events (op, seq);
CREATE TABLE event_keys (key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (key, seq))
  WITHOUT ROWID;
INSERT INTO schema_version (version, applied_at) VALUES (1, 1700000000000);
INSERT INTO meta (key, value) VALUES ('last_binding_id', 40), ('last_event_seq', 9)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value;
INSERT INTO pools VALUES ('lab', 3, 10, 20,
  '{"network":"blue","cidrs":["10.9.0.0/24","fd00:9::/64"],"gateway":"10.9.0.1","vlan":7}');
INSERT INTO mac_pools VALUES ('macs', '52:54:00/24', 'sequential', 60, 1, 1, 2);
INSERT INTO bindings VALUES (17, 'vm-17', 'eth0', 2886795269, 'macs',
  'lab|10.9.0.17,lab|fd00:9::17', 'h1', NULL, 'svc', 'acme', '{"app":"db"}', 1, 0, 0, 5, 6, 2);
INSERT INTO tokens VALUES ('ci', 'abc', 'admin', '["acme"]', 3, 1);
INSERT INTO quarantine (kind, pool, key, until) VALUES ('ip', 'lab', '10.9.0.3', 99);
INSERT INTO events VALUES (9, 50, 'alice', 'binding.allocate', 'binding:17',
  '["ip:10.9.0.17"]', '', '{}');
INSERT INTO event_keys VALUES ('ip:10.9.0.17', 9);
)sql";

TEST(SqliteStoreTest, OpensADatabaseCreatedAtVersion1) {
  TempDir dir;
  std::string path = dir.file("v1.db");
  {
    auto c = rawConnection(path);
    ASSERT_TRUE(c.exec("PRAGMA journal_mode = WAL").isOk());
    auto s = c.exec(kFrozenSchemaV1);
    ASSERT_TRUE(s.isOk()) << s.toString();
  }
  auto store = openOrDie(path);
  ASSERT_TRUE(store);
  auto state = store->load();
  ASSERT_TRUE(state.isOk()) << state.status().toString();
  EXPECT_EQ(state->last_binding_id, 40u);
  EXPECT_EQ(state->last_event_seq, 9u);
  ASSERT_EQ(state->pools.size(), 1u);
  EXPECT_EQ(state->pools[0].cidrs.size(), 2u);
  EXPECT_EQ(state->pools[0].vlan, 7);
  EXPECT_EQ(state->pools[0].quarantine_s, 300);  // absent member: the record default
  EXPECT_EQ(state->pools[0].version, 3u);
  ASSERT_EQ(state->bindings.size(), 1u);
  const auto& b = state->bindings[0];
  EXPECT_EQ(b.id, 17u);
  EXPECT_EQ(b.mac->toString(), "00:00:ac:11:00:05");
  EXPECT_EQ(b.addresses.size(), 2u);
  EXPECT_EQ(b.labels.at("app"), "db");
  EXPECT_EQ(b.state, ledger::BindingState::kActive);
  EXPECT_EQ(b.ttl_s, 0);                    // added by migration 3
  ASSERT_EQ(state->quarantine.size(), 1u);  // carried through migration 2's new key
  EXPECT_EQ(state->quarantine[0].pool, "lab");
  EXPECT_EQ(state->quarantine[0].key, "10.9.0.3");
  EXPECT_EQ(state->quarantine[0].until, 99);
  ASSERT_EQ(state->tokens.size(), 1u);
  EXPECT_EQ(state->tokens[0].role, ledger::Role::kAdmin);
  EXPECT_EQ(state->mac_pools[0].strategy, alloc::MacStrategy::kSequential);
  auto events = store->queryEvents(Query().key("ip:10.9.0.17"));
  ASSERT_TRUE(events.isOk());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(store->pragma("user_version").valueOr("?"), "0");
  store.reset();
  auto c = rawConnection(path);
  EXPECT_EQ(queryInt(c, "SELECT max(version) FROM schema_version"), sqlite::latestSchemaVersion());
}

TEST(SqliteStoreTest, CorruptRowIsAnErrorNamingTheRecord) {
  TempDir dir;
  std::string path = dir.file("ledger.db");
  {
    auto store = openOrDie(path);
    ASSERT_TRUE(store);
    NL_ASSERT_OK(store->apply(sampleBatch()));
  }
  struct Case {
    const char* sql;
    const char* names;
  };
  const Case cases[] = {
      {"UPDATE bindings SET labels = '{\"a\":' WHERE id = 1", "binding 1"},
      {"UPDATE bindings SET labels = '[1,2]' WHERE id = 1", "binding 1"},
      {"UPDATE bindings SET addresses = 'lab|10.0.0.300' WHERE id = 2", "binding 2"},
      {"UPDATE bindings SET addresses = 'no-bar' WHERE id = 2", "binding 2"},
      {"UPDATE bindings SET state = 9 WHERE id = 2", "binding 2"},
      {"UPDATE pools SET data = '{\"cidrs\":[\"10.0.0.1/24\"]}'", "pool \"lab\""},
      {"UPDATE pools SET data = '{\"vlan\":\"seven\"}'", "pool \"lab\""},
      {"UPDATE pools SET data = 'null'", "pool \"lab\""},
      {"UPDATE mac_pools SET strategy = 'fastest'", "mac pool \"macs\""},
      {"UPDATE mac_pools SET prefix = 'zz:54:00'", "mac pool \"macs\""},
      {"UPDATE tokens SET role = 'god'", "token \"ci\""},
      {"UPDATE tokens SET tenants = 'acme'", "token \"ci\""},
  };
  for (const Case& c : cases) {
    TempDir copy_dir;
    std::string copy = copy_dir.file("copy.db");
    {
      auto store = openOrDie(path);
      NL_ASSERT_OK(store->snapshotTo(copy));
    }
    {
      auto raw = rawConnection(copy);
      auto s = raw.exec(c.sql);
      ASSERT_TRUE(s.isOk()) << s.toString();
    }
    auto store = openOrDie(copy);
    ASSERT_TRUE(store);
    auto state = store->load();
    ASSERT_FALSE(state.isOk()) << c.sql;
    EXPECT_EQ(state.status().code(), StatusCode::kInternal) << state.status().toString();
    EXPECT_NE(state.status().message().find(c.names), std::string::npos)
        << c.sql << " -> " << state.status().toString();
  }
}

TEST(SqliteStoreTest, LockTimeoutIsUnavailableAndAppliesNothing) {
  TempDir dir;
  std::string path = dir.file("ledger.db");
  auto store = openOrDie(path, {.busy_timeout_ms = 50});
  ASSERT_TRUE(store);
  auto other = rawConnection(path);
  ASSERT_TRUE(other.exec("BEGIN IMMEDIATE").isOk());  // another writer holds the lock
  Status s = store->apply(sampleBatch());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.toString();
  ASSERT_TRUE(other.exec("ROLLBACK").isOk());
  EXPECT_TRUE(store->load()->bindings.empty());
  NL_EXPECT_OK(store->apply(sampleBatch()));  // and it recovers
  EXPECT_EQ(store->load()->bindings.size(), 2u);
}

// Crash durability proxy: a child applies a batch and dies the instant apply() returns, with no
// destructor, close or checkpoint. What apply() acknowledged must be in the file.
void crashAfterApply(const std::string& path, bool sigkill) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = SqliteStore::open(path);
    if (!store) ::_exit(3);
    Status s = (*store)->apply(sampleBatch());
    if (!s.isOk()) ::_exit(4);
    if (sigkill) ::raise(SIGKILL);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  if (sigkill) {
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  } else {
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
}

TEST(SqliteStoreTest, BatchSurvivesTheProcessDyingRightAfterApply) {
  for (bool sigkill : {false, true}) {
    TempDir dir;
    std::string path = dir.file("ledger.db");
    crashAfterApply(path, sigkill);
    auto store = openOrDie(path);
    ASSERT_TRUE(store);
    auto state = store->load();
    ASSERT_TRUE(state.isOk()) << state.status().toString();
    ASSERT_EQ(state->bindings.size(), 2u) << (sigkill ? "SIGKILL" : "_exit");
    EXPECT_EQ(render(state->bindings[0]), render(fullBinding(1)));
    EXPECT_EQ(state->last_event_seq, 1u);
    EXPECT_EQ(store->queryEvents(Query().key("ip:10.20.0.5"))->size(), 1u);
  }
}

TEST(SqliteStoreTest, RestoreReplacesTheDatabaseWithTheSnapshot) {
  TempDir dir;
  std::string live = dir.file("live.db"), snapshot = dir.file("snap.db");
  std::string state_at_snapshot;
  {
    auto store = openOrDie(live);
    ASSERT_TRUE(store);
    NL_ASSERT_OK(store->apply(sampleBatch()));
    NL_ASSERT_OK(store->snapshotTo(snapshot));
    state_at_snapshot = render(*store->load());
    NL_ASSERT_OK(store->apply({ledger::DeleteBinding{1, 1}}));
  }
  Status s = restoreSqliteSnapshot(snapshot, live);
  EXPECT_EQ(s.code(), StatusCode::kConflict) << s.toString();
  NL_ASSERT_OK(restoreSqliteSnapshot(snapshot, live, /*force=*/true));
  auto store = openOrDie(live);
  ASSERT_TRUE(store);
  EXPECT_EQ(render(*store->load()), state_at_snapshot);
  // Into a fresh location (directory created), no force needed.
  NL_ASSERT_OK(restoreSqliteSnapshot(snapshot, dir.file("new/place.db")));
  EXPECT_EQ(render(*openOrDie(dir.file("new/place.db"))->load()), state_at_snapshot);
}

TEST(SqliteStoreTest, RestoreRefusesWhatIsNotANetledgerDatabase) {
  TempDir dir;
  std::string target = dir.file("target.db");
  EXPECT_EQ(restoreSqliteSnapshot(dir.file("missing.db"), target).code(), StatusCode::kNotFound);

  std::string text = dir.file("text.db");
  std::ofstream(text) << std::string(4096, 'z');
  Status s = restoreSqliteSnapshot(text, target);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();

  std::string foreign = dir.file("foreign.db");
  {
    auto c = rawConnection(foreign);
    ASSERT_TRUE(c.exec("CREATE TABLE bindings (id INTEGER)").isOk());
  }
  s = restoreSqliteSnapshot(foreign, target);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
  EXPECT_NE(s.message().find("schema_version"), std::string::npos) << s.toString();

  std::string empty = dir.file("empty.db");
  std::ofstream(empty).flush();
  EXPECT_EQ(restoreSqliteSnapshot(empty, target).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST(SqliteStoreTest, SnapshotIsConsistentWhileApplyRuns) {
  TempDir dir;
  auto store = openOrDie(dir.file("live.db"));
  ASSERT_TRUE(store);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> applied{0};
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    for (std::uint64_t i = 1; !stop && i < 100'000; ++i) {
      // Each batch adds a binding and its event: a consistent copy has as many of each.
      Status s = store->apply({ledger::PutBinding{minimalBinding(i), 0},
                               ledger::AppendEvent{event(i, 1, "a", "b", {"k"})}});
      if (!s.isOk()) break;
      applied = i;
    }
    writer_done = true;
  });
  for (std::uint64_t i = 0; i < 5; ++i) {
    // Snapshot mid-stream: wait until the writer is well under way.
    while (applied < 10 * (i + 1) && !writer_done) std::this_thread::yield();
    std::string snap = dir.file("snap" + std::to_string(i) + ".db");
    NL_ASSERT_OK(store->snapshotTo(snap));
    auto copy = openOrDie(snap);
    ASSERT_TRUE(copy);
    auto state = copy->load();
    ASSERT_TRUE(state.isOk());
    EXPECT_EQ(state->bindings.size(), state->last_event_seq);
    EXPECT_GE(state->bindings.size(), 10 * (i + 1));
  }
  stop = true;
  writer.join();
}

}  // namespace
}  // namespace netledger::store
