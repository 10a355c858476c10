#pragma once
// Checkpoints a WAL database from a thread and a connection of its own.
//
// SQLite's default checkpoint runs inside the commit that crosses 1,000 WAL pages: that commit
// (and every request waiting on the batch) stops to copy the pages into the database file and
// fsync it, a fifth of the writer's time under load and its worst latency. Here the writer's
// commits only wake this thread, which copies what is in the WAL while commits go on. Commits
// that land during a copy keep the WAL from starting over, so the writer itself finishes the
// job once the WAL passes a higher mark: by then nearly every page is copied, and what is left
// is short.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "store/sqlite/sqlite_db.h"

namespace netledger::store::sqlite {

class WalCheckpointer {
 public:
  // WAL pages after a commit that wake the thread (SQLite's own default mark).
  static constexpr int kWakePages = 1000;
  // WAL pages after which the writer checkpoints the rest itself, so the WAL restarts.
  static constexpr int kWriterPages = 4000;

  // Opens a connection of its own to the WAL database at `path`, with `synchronous` as the
  // writer's ("FULL" or "NORMAL": a checkpoint syncs as its connection says), and starts the
  // thread. Then attach() the writer.
  static Result<std::unique_ptr<WalCheckpointer>> start(const std::string& path,
                                                        const std::string& synchronous,
                                                        int busy_timeout_ms);
  // Detaches from the writer (which must still be open), stops and joins the thread.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Turns off the writer's automatic checkpoints and hooks its commits. Called once, on the
  // thread that owns `writer`.
  void attach(sqlite3* writer);

  struct Stats {
    std::uint64_t background = 0;  // checkpoints run by the thread
    std::uint64_t by_writer = 0;   // checkpoints the writer finished itself
    std::uint64_t failed = 0;      // checkpoints that failed other than busy (I/O, full disk)
  };
  Stats stats() const;

 private:
  explicit WalCheckpointer(Connection conn);
  static int onCommit(void* self, sqlite3* db, const char* schema, int pages);
  void run();

  Connection conn_;  // used by the thread only
  sqlite3* writer_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace netledger::store::sqlite
