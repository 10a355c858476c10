#include "store/register.h"

#include <memory>
#include <mutex>
#include <string>

#include "ledger/store.h"
#include "store/etcd/etcd_store.h"
#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace netledger::store {

namespace {

// "sqlite:/var/lib/x.db" and "sqlite:data/x.db" name paths directly; "sqlite:///var/lib/x.db"
// (URL style) is accepted too and means the same absolute path.
std::string sqlitePath(const std::string& location) {
  if (location.rfind("///", 0) == 0) return location.substr(2);
  return location;
}

// An etcd replica's history archive: a SQLite file of its own, or memory when no path is given.
// Not fsync'd per batch: what a crash loses of it is read again from etcd's log (the archive
// records the revision it is complete through in the same transaction as its events).
Result<std::unique_ptr<ledger::Store>> historyArchiveStore(const std::string& path) {
  if (path.empty()) return std::unique_ptr<ledger::Store>(std::make_unique<MemoryStore>());
  SqliteOptions options;
  options.fsync_each_batch = false;
  auto store = SqliteStore::open(path, options);
  if (!store) return store.status().withContext("store: history=" + path);
  return std::unique_ptr<ledger::Store>(std::move(*store));
}

}  // namespace

void registerBuiltinStores() {
  static std::once_flag once;
  std::call_once(once, [] {
    ledger::registerStoreBackend(
        "sqlite",
        [](const std::string& location,
           const ledger::StoreCredentials&) -> Result<std::unique_ptr<ledger::Store>> {
          auto store = SqliteStore::open(sqlitePath(location));
          if (!store) return store.status();
          return std::unique_ptr<ledger::Store>(std::move(*store));
        });
    ledger::registerStoreBackend(
        "memory",
        [](const std::string&,
           const ledger::StoreCredentials&) -> Result<std::unique_ptr<ledger::Store>> {
          return std::unique_ptr<ledger::Store>(std::make_unique<MemoryStore>());
        });
    for (const char* scheme : {"etcd", "etcds"}) {
      ledger::registerStoreBackend(
          scheme,
          [scheme](const std::string& location,
                   const ledger::StoreCredentials& c) -> Result<std::unique_ptr<ledger::Store>> {
            auto target = etcd::parseEtcdUrl(scheme, location);
            if (!target) return target.status();
            auto history = historyArchiveStore(target->history_path);
            if (!history) return history.status();
            auto store = etcd::EtcdStore::open(
                std::string(scheme) + ":" + location, std::move(*target),
                {c.ca_file, c.cert_file, c.key_file, c.user, c.password}, std::move(*history));
            if (!store) return store.status();
            return std::unique_ptr<ledger::Store>(std::move(*store));
          });
    }
  });
}

}  // namespace netledger::store
