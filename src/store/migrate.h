#pragma once
// Copying a whole ledger from one store into another: a single-node SQLite ledger into etcd
// before its replicas start (`netledgerd --store etcd://... --migrate-from sqlite:PATH`).
//
//   auto from = ledger::openStore("sqlite:/var/lib/netledger/ledger.db");
//   auto to = ledger::openStore("etcd://10.0.0.21:2379/netledger");
//   auto copied = store::copyLedger(**from, **to);  // copied->bindings, copied->events, ...

#include <cstddef>

#include "common/status.h"
#include "ledger/store.h"

namespace netledger::store {

struct CopyCounts {
  std::size_t pools = 0, mac_pools = 0, tokens = 0, documents = 0, bindings = 0, quarantine = 0,
              events = 0;
};

// Copies every record (pools parents first, MAC pools, tokens, documents, bindings, quarantine
// entries) and every event, ids, versions and seqs unchanged, in batches within the target's
// budget. `to` must hold no pool, binding, token or document (kConflict naming what it holds):
// migrate before any replica starts on it, since the first one creates an admin token. On a
// shared target the highest binding id ever given is carried over too, so no id is reused.
Result<CopyCounts> copyLedger(ledger::Store& from, ledger::Store& to);

}  // namespace netledger::store
