// How state that this process did not write reaches memory: the store's contents at start-up
// (and after a failed commit), and batches another writer committed to a shared store
// (applyCommitted). Both take records as durable facts: nothing is checked, the allocators
// follow.
#include <chrono>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "ledger/ledger_state.h"

namespace netledger::ledger {

void Ledger::State::clearLocked() {
  bindings.clear();
  mac_pools.clear();
  pools.clear();
  tokens.clear();
  documents.clear();
}

Status Ledger::State::loadLocked() {
  auto t0 = std::chrono::steady_clock::now();
  auto loaded = store.load();
  if (!loaded) return loaded.status();
  return buildLocked(*loaded, t0);
}

Status Ledger::State::buildLocked(StoreState& s, std::chrono::steady_clock::time_point t0) {
  auto t1 = std::chrono::steady_clock::now();
  load_stats.bindings = s.bindings.size();
  load_stats.store_seconds = std::chrono::duration<double>(t1 - t0).count();
  const TimePoint now = clock.now();
  pools.spreadCursors(store.writerSlot());
  mac_pools.spreadCursors(store.writerSlot());
  bindings.strideIds(store.writerSlot());
  NL_RETURN_IF_ERROR(pools.load(s.pools));
  for (const auto& m : s.mac_pools) mac_pools.adopt(m);
  bindings.load(s.bindings, now);
#ifdef __GLIBC__
  // The store may decode records on helper threads. Freed here, their memory would sit in those
  // threads' malloc arenas as fast-bin chunks, later merged into the arena's top, which
  // malloc_trim never returns for a non-main arena (~40 bytes per binding). Without fast bins
  // each free coalesces at once and the arena trims its top as it shrinks.
  mallopt(M_MXFAST, 0);
#endif
  s.bindings.clear();
  s.bindings.shrink_to_fit();
#ifdef __GLIBC__
  mallopt(M_MXFAST, 64 * sizeof(std::size_t) / 4);  // glibc's default (DEFAULT_MXFAST)
#endif
  for (const auto& t : s.tokens) tokens.adopt(t);
  for (const auto& q : s.quarantine) {
    if (q.kind == "ip") {
      pools.restoreQuarantine(q, now);
    } else {
      mac_pools.restoreQuarantine(q, now);
    }
  }
  for (auto& d : s.documents) documents.adopt(std::move(d));
  last_event_seq = s.last_event_seq;
  last_event_position = s.last_event_position;
  bindings.raiseLastId(s.last_binding_id);
  load_stats.build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return Status::ok();
}

Status Ledger::State::rebuildLocked() {
  // Read first: when the store cannot be read (a shared store without quorum), memory keeps
  // serving reads, a batch's worth of unacknowledged changes out of date, until a reload works.
  auto t0 = std::chrono::steady_clock::now();
  if (Status h = store.health(); !h.isOk()) {  // no use waiting for it under the lock
    reload_pending = true;
    return h;
  }
  auto loaded = store.load();
  if (!loaded) {
    reload_pending = true;
    return loaded.status();
  }
  reload_pending = false;
  clearLocked();
  NL_RETURN_IF_ERROR(buildLocked(*loaded, t0));
  if (document_listener) {
    DocumentChanges all;
    all.full = true;
    for (const auto& kind : listened_kinds) {
      for (auto& d : documents.list(kind)) all.put.push_back(std::move(d));
    }
    document_listener(std::move(all));
  }
  return Status::ok();
}

Status Ledger::reloadIfBehind() {
  std::lock_guard lock(state_->mu);
  return state_->reload_pending ? state_->reloadLocked() : Status::ok();
}

Status Ledger::State::reloadLocked() {
  Status s = rebuildLocked();
  pipeline.memoryReloadedLocked();  // commands still queued or in flight left memory with it
  return s;
}

Status Ledger::State::applyRecordLocked(const Write& write, TimePoint now) {
  return std::visit(
      [&](const auto& w) -> Status {
        using W = std::decay_t<decltype(w)>;
        if constexpr (std::is_same_v<W, PutPool>) {
          return pools.adopt(w.pool, bindings.heldIn(w.pool.name), now);
        } else if constexpr (std::is_same_v<W, DeletePool>) {
          pools.forget(w.name);
        } else if constexpr (std::is_same_v<W, PutMacPool>) {
          mac_pools.adopt(w.pool);
        } else if constexpr (std::is_same_v<W, DeleteMacPool>) {
          mac_pools.forget(w.name);
        } else if constexpr (std::is_same_v<W, PutBinding>) {
          bindings.adopt(w.binding, now);
        } else if constexpr (std::is_same_v<W, DeleteBinding>) {
          bindings.forget(w.id);
          bindings.raiseLastId(w.id);
        } else if constexpr (std::is_same_v<W, PutToken>) {
          tokens.adopt(w.token);
        } else if constexpr (std::is_same_v<W, DeleteToken>) {
          tokens.forget(w.name);
        } else if constexpr (std::is_same_v<W, PutDocument>) {
          documents.adopt(w.document);
        } else if constexpr (std::is_same_v<W, DeleteDocument>) {
          documents.forget(w.kind, w.key);
        }
        // Quarantine entries and events: the second pass of applyCommitted. DeleteQuarantine
        // only comes with its pool's deletion, which already dropped the pool's quarantine.
        return Status::ok();
      },
      write);
}

Status Ledger::applyCommitted(std::span<const Write> batch) {
  std::vector<const EventRecord*> events;
  DocumentChanges changed;
  for (const Write& w : batch) {
    if (const auto* d = std::get_if<PutDocument>(&w)) {
      if (state_->listened_kinds.contains(d->document.kind)) changed.put.push_back(d->document);
    } else if (const auto* gone = std::get_if<DeleteDocument>(&w)) {
      if (state_->listened_kinds.contains(gone->kind))
        changed.deleted.emplace_back(gone->kind, gone->key);
    }
  }
  {
    std::lock_guard lock(state_->mu);
    const TimePoint now = state_->clock.now();
    // Records first, then quarantine: an address or MAC a deletion frees in this batch is
    // free by the time its quarantine entry holds it back.
    for (const Write& w : batch) NL_RETURN_IF_ERROR(state_->applyRecordLocked(w, now));
    for (const Write& w : batch) {
      if (const auto* q = std::get_if<PutQuarantine>(&w)) {
        if (q->entry.kind == "ip") {
          state_->pools.restoreQuarantine(q->entry, now);
        } else {
          state_->mac_pools.restoreQuarantine(q->entry, now);
        }
      } else if (const auto* e = std::get_if<AppendEvent>(&w)) {
        state_->last_event_seq = std::max(state_->last_event_seq, e->event.seq);
        state_->last_event_position = std::max(state_->last_event_position, e->event.position);
        events.push_back(&e->event);
      }
    }
    // Under the lock, as a reload's are: a listener then hears the changes in memory's order.
    if ((!changed.put.empty() || !changed.deleted.empty()) && state_->document_listener) {
      state_->document_listener(std::move(changed));
    }
  }
  if (!events.empty() && state_->pipeline.eventListener()) state_->pipeline.eventListener()(events);
  return Status::ok();
}

Status Ledger::open() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->open) return Status::ok();
    NL_RETURN_IF_ERROR(state_->loadLocked());
#ifdef __GLIBC__
    // Loading builds every record once more than memory keeps; hand those pages back to the OS
    // instead of leaving them in malloc's free lists (they were ~100 bytes per binding).
    malloc_trim(0);
#endif
    state_->open = true;
  }
  state_->pipeline.start();
  return followStore();
}

// A shared store's other writers: their batches reach memory as they commit. A batch memory
// cannot follow (it names a pool memory does not know) is answered by a full reload.
Status Ledger::followStore() {
  if (!state_->store.shared()) return Status::ok();
  return state_->store.follow([this](std::vector<Write>&& batch) {
    Status s = batch.empty() ? Status::unavailable("the store's change feed lost track")
                             : applyCommitted(batch);
    if (!s.isOk()) {
      std::lock_guard lock(state_->mu);
      (void)state_->reloadLocked();
    }
    return s;
  });
}

void Ledger::close() {
  state_->store.stopFollowing();
  state_->pipeline.stop();
  std::lock_guard lock(state_->mu);
  state_->open = false;
}

}  // namespace netledger::ledger
