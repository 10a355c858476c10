#include "store/sqlite/wal_checkpointer.h"

#include <sqlite3.h>

namespace netledger::store::sqlite {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::string& path,
                                                                const std::string& synchronous,
                                                                int busy_timeout_ms) {
  auto conn = Connection::open(path, SQLITE_OPEN_READWRITE);
  if (!conn) return conn.status();
  if (sqlite3_busy_timeout(conn->handle(), busy_timeout_ms) != SQLITE_OK) {
    return conn->error(SQLITE_ERROR, "busy_timeout");
  }
  NL_RETURN_IF_ERROR(conn->exec("PRAGMA synchronous = " + synchronous));
  auto self = std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(*conn)));
  self->thread_ = std::thread([raw = self.get()] { raw->run(); });
  return self;
}

WalCheckpointer::WalCheckpointer(Connection conn) : conn_(std::move(conn)) {}

WalCheckpointer::~WalCheckpointer() {
  if (writer_ != nullptr) sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::attach(sqlite3* writer) {
  writer_ = writer;
  // Replaces the automatic checkpoint (itself a WAL hook) with this one.
  sqlite3_wal_hook(writer, &WalCheckpointer::onCommit, this);
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

int WalCheckpointer::onCommit(void* raw, sqlite3* db, const char* schema, int pages) {
  auto* self = static_cast<WalCheckpointer*>(raw);
  if (pages >= kWriterPages) {
    // The write lock is released but this writer is the only one: a passive checkpoint here
    // copies what the thread has not and lets the next transaction restart the WAL. SQLITE_BUSY
    // (the thread is mid-copy) leaves it to the next commit.
    const int rc =
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    std::lock_guard lock(self->mu_);
    if (rc == SQLITE_OK) ++self->stats_.by_writer;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) ++self->stats_.failed;
    return SQLITE_OK;  // the commit itself succeeded: a failed copy is retried at the next one
  }
  if (pages >= kWakePages) {
    {
      std::lock_guard lock(self->mu_);
      self->wanted_ = true;
    }
    self->cv_.notify_one();
  }
  return SQLITE_OK;  // a hook's error would be reported as the commit's
}

void WalCheckpointer::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    lock.unlock();
    // Passive: never waits for readers or the writer; what it cannot copy now, a later pass
    // (or the writer) does.
    int rc = sqlite3_wal_checkpoint_v2(conn_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                       nullptr);
    lock.lock();
    if (rc == SQLITE_OK) ++stats_.background;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) ++stats_.failed;
  }
}

}  // namespace netledger::store::sqlite
