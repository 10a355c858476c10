#include "store/sqlite/sqlite_db.h"

#include <utility>

namespace netledger::store::sqlite {

StatusCode statusCodeFor(int sqlite_rc) {
  switch (sqlite_rc & 0xff) {  // primary code; extended codes refine it
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return StatusCode::kOk;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_PERM:
      return StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return StatusCode::kConflict;
    case SQLITE_NOTADB:
      return StatusCode::kInvalidArgument;
    default:  // CORRUPT, MISUSE, ERROR (bad SQL), SCHEMA, ...
      return StatusCode::kInternal;
  }
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::bindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

int Statement::step() {
  if (bind_rc_ != SQLITE_OK) return bind_rc_;
  return sqlite3_step(stmt_);
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

std::string_view Statement::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

Result<Connection> Connection::open(const std::string& path, int flags) {
  Connection c;
  c.path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &c.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = c.db_ ? c.error(rc, "open " + path)
                     : Status::unavailable("sqlite: open " + path + ": out of memory");
    return s;
  }
  // Extended codes distinguish e.g. SQLITE_IOERR_FSYNC in messages.
  sqlite3_extended_result_codes(c.db_, 1);
  return c;
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

// close_v2 defers the close until every statement is finalized, so member destruction order
// between a Connection and its cached Statements cannot leak or crash.
Connection::~Connection() { sqlite3_close_v2(db_); }

Status Connection::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::ok();
  std::string m = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Status(statusCodeFor(rc), "sqlite: " + path_ + ": " + m);
}

Result<Statement> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc, "prepare \"" + std::string(sql.substr(0, 60)) + "\"");
  return Statement(stmt);
}

Status Connection::error(int rc, std::string_view context) const {
  std::string m = "sqlite: " + path_ + ": " + std::string(context) + ": ";
  m += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return Status(statusCodeFor(rc), std::move(m));
}

Result<Statement> Connection::queryRow(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) return stmt.status();
  int rc = stmt->step();
  if (rc != SQLITE_ROW) {
    return rc == SQLITE_DONE ? Status::internal("sqlite: no row from " + std::string(sql))
                             : error(rc, sql);
  }
  return stmt;
}

Result<std::int64_t> Connection::queryInt(std::string_view sql) {
  auto row = queryRow(sql);
  if (!row) return row.status();
  return row->int64(0);
}

Result<std::string> Connection::queryText(std::string_view sql) {
  auto row = queryRow(sql);
  if (!row) return row.status();
  return std::string(row->text(0));
}

}  // namespace netledger::store::sqlite
