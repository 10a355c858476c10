#include "store/sqlite/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_db.h"

namespace netledger::store::sqlite {

namespace fs = std::filesystem;

namespace {

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

Status ensureParentDirectory(const std::string& path) {
  auto parent = fs::path(path).parent_path();
  if (parent.empty()) return Status::ok();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    return Status::unavailable("cannot create directory " + parent.string() + ": " + ec.message());
  }
  return Status::ok();
}

void removeQuietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

// A rename or link is durable only once its directory entry is: fsync the directory.
Status syncParentDirectory(const std::string& path) {
  auto parent = fs::path(path).parent_path();
  std::string dir = parent.empty() ? "." : parent.string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::unavailable("open " + dir + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::unavailable("fsync " + dir + ": " + std::strerror(err));
  return Status::ok();
}

// Copies `source` into the fresh file `dest` in one backup step, i.e. one read transaction on
// the source: the copy is the state of a single commit even while a writer keeps committing.
Status copyDatabase(const std::string& source, const std::string& dest) {
  auto src = Connection::open(source, SQLITE_OPEN_READONLY);
  if (!src) return src.status();
  (void)sqlite3_busy_timeout(src->handle(), 5000);
  auto dst = Connection::open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!dst) return dst.status();
  // The copy's commit must reach the disk before it is moved into place.
  NL_RETURN_IF_ERROR(dst->exec("PRAGMA synchronous = FULL"));
  sqlite3_backup* backup = sqlite3_backup_init(dst->handle(), "main", src->handle(), "main");
  if (backup == nullptr) {
    return dst->error(sqlite3_errcode(dst->handle()), "backup of " + source);
  }
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    return Status(statusCodeFor(rc) == StatusCode::kInvalidArgument ? StatusCode::kInvalidArgument
                                                                    : StatusCode::kUnavailable,
                  "sqlite: backup " + source + " -> " + dest + ": " + sqlite3_errstr(rc));
  }
  return Status::ok();
}

// Checks that `path` is a healthy netledger database this build can open.
Status validateSnapshot(const std::string& path) {
  auto not_ours = [&](const std::string& why) {
    return Status::invalidArgument("restore: " + path + " is not a netledger database (" + why +
                                   ")");
  };
  auto db = Connection::open(path, SQLITE_OPEN_READONLY);
  if (!db) return not_ours(db.status().message());
  auto version = schemaVersion(*db);
  if (!version) return not_ours(version.status().message());
  if (*version == 0) return not_ours("no schema_version table");
  if (*version > latestSchemaVersion()) {
    return Status::invalidArgument("restore: " + path + " has schema version " +
                                   std::to_string(*version) + ", newer than this netledgerd (" +
                                   std::to_string(latestSchemaVersion()) + ")");
  }
  auto check = db->queryText("PRAGMA quick_check");
  if (!check) return not_ours(check.status().message());
  if (*check != "ok") return Status::invalidArgument("restore: " + path + " is damaged: " + *check);
  return Status::ok();
}

}  // namespace

Status backupToNewFile(const std::string& source, const std::string& dest) {
  if (dest.empty()) return Status::invalidArgument("snapshot: empty path");
  if (exists(dest)) return Status::conflict("snapshot: " + dest + " already exists");
  NL_RETURN_IF_ERROR(ensureParentDirectory(dest).withContext("snapshot"));
  std::string partial = dest + ".partial";
  removeQuietly(partial);  // left by a crashed attempt
  Status s = copyDatabase(source, partial);
  if (s.isOk()) {
    // link() instead of rename(): it refuses to replace a file that appeared meanwhile.
    if (::link(partial.c_str(), dest.c_str()) != 0) {
      int err = errno;
      s = err == EEXIST ? Status::conflict("snapshot: " + dest + " already exists")
                        : Status::unavailable("snapshot: link " + dest + ": " + std::strerror(err));
    }
  }
  removeQuietly(partial);
  if (!s.isOk()) return s;
  return syncParentDirectory(dest);
}

Status restoreSnapshot(const std::string& snapshot, const std::string& db_path, bool force) {
  if (snapshot.empty() || db_path.empty()) return Status::invalidArgument("restore: empty path");
  if (!exists(snapshot)) return Status::notFound("restore: " + snapshot + " does not exist");
  NL_RETURN_IF_ERROR(validateSnapshot(snapshot));
  if (exists(db_path) && !force) {
    return Status::conflict("restore: " + db_path + " already exists (use force to replace it)");
  }
  NL_RETURN_IF_ERROR(ensureParentDirectory(db_path).withContext("restore"));
  std::string partial = db_path + ".restore-partial";
  removeQuietly(partial);
  Status s = copyDatabase(snapshot, partial);
  if (!s.isOk()) {
    removeQuietly(partial);
    return s.withContext("restore");
  }
  // The old database's WAL must go before the new file takes its name: SQLite would replay
  // those frames onto the restored pages.
  removeQuietly(db_path + "-wal");
  removeQuietly(db_path + "-shm");
  std::error_code ec;
  fs::rename(partial, db_path, ec);
  if (ec) {
    removeQuietly(partial);
    return Status::unavailable("restore: rename to " + db_path + ": " + ec.message());
  }
  return syncParentDirectory(db_path);
}

}  // namespace netledger::store::sqlite
