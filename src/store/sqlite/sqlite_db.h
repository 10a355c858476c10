#pragma once
// A thin RAII wrapper over the SQLite C API (Kea's asiolink idea: sqlite3.h stays inside
// src/store/sqlite). Connections and statements own their handles; errors become Status.
// Not thread-safe: each Connection is used under its owner's mutex.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace netledger::store::sqlite {

// Maps an SQLite result code to our codes: busy/locked/I/O/full/can't-open/read-only are
// kUnavailable (retryable: the disk or another process is in the way), corruption is kInternal,
// constraint violations kConflict.
StatusCode statusCodeFor(int sqlite_rc);

// One prepared statement. Bind indexes are 1-based, columns 0-based (as in SQLite).
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds copy their argument (SQLITE_TRANSIENT), so temporaries are safe. A failed bind is
  // remembered and reported by the next step().
  void bind(int index, std::int64_t value);
  void bind(int index, std::uint64_t value) { bind(index, static_cast<std::int64_t>(value)); }
  void bind(int index, std::string_view text);
  void bindNull(int index);

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int step();
  // Makes the statement reusable: resets it and clears bindings (cached statements are reused
  // for every write, never re-prepared).
  void reset();

  bool isNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::uint64_t uint64(int column) const { return static_cast<std::uint64_t>(int64(column)); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  // Valid until the next step/reset.
  std::string_view text(int column) const;

  sqlite3_stmt* handle() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = SQLITE_OK;
};

// Resets a cached statement when the scope ends, whatever path leaves it, so a read transaction
// is never left open by a half-stepped statement.
class ScopedReset {
 public:
  explicit ScopedReset(Statement& stmt) : stmt_(stmt) {}
  ~ScopedReset() { stmt_.reset(); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  Statement& stmt_;
};

class Connection {
 public:
  // `flags`: SQLITE_OPEN_* (NOMUTEX is always added: the owner serializes access).
  static Result<Connection> open(const std::string& path, int flags);

  Connection() = default;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements that return no rows we need.
  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  // A status with the connection's current error message, prefixed by `context`.
  Status error(int rc, std::string_view context) const;
  // Runs a statement expected to return one integer row (PRAGMA, SELECT count(*)).
  Result<std::int64_t> queryInt(std::string_view sql);
  Result<std::string> queryText(std::string_view sql);
  // The statement stepped onto its first row; kInternal when there is none.
  Result<Statement> queryRow(std::string_view sql);

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  bool isOpen() const { return db_ != nullptr; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace netledger::store::sqlite
