#include "ledger/history.h"

#include <algorithm>
#include <optional>

#include <boost/json.hpp>

#include "ledger/codec.h"

namespace netledger::ledger {

namespace {

bool endsHolding(const EventRecord& e) {
  return e.op != "binding.release" && e.op != "binding.expire";
}

std::optional<BindingRecord> bindingOf(const std::string& text) {
  if (text.empty()) return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  auto b = bindingFromJson(v);
  if (!b) return std::nullopt;
  return *b;
}

HistoryEntry entryOf(const EventRecord& e, const std::string& key) {
  HistoryEntry h;
  h.event = e;
  h.holder = bindingOf(e.after.empty() ? e.before : e.after);
  h.holds = endsHolding(e);
  // An address taken away by the event (a reassignment) is not held by its "after" binding.
  if (h.holds && h.holder && key.rfind("ip:", 0) == 0) {
    const std::string_view ip = std::string_view(key).substr(3);
    h.holds = std::any_of(h.holder->addresses.begin(), h.holder->addresses.end(),
                          [&](const BoundAddress& a) { return a.ip.toString() == ip; });
  }
  // A move takes the address from the "before" binding: for that binding's keys it ends.
  if (e.op == "address.move" && key.rfind("instance:", 0) == 0) {
    auto before = bindingOf(e.before);
    if (before && "instance:" + before->instance == key) {
      h.holder = before;
      h.holds = true;
    }
  }
  return h;
}

}  // namespace

Result<HistoryEntry> History::holderAt(const std::string& key, Millis at) const {
  EventQuery q;
  q.key = key;
  q.to = at;
  q.before_seq = UINT64_MAX;
  q.limit = 16;
  auto events = store_.queryEvents(q);
  if (!events) return events.status();
  for (const auto& e : *events) {
    if (e.op == "binding.renew") continue;  // renewals carry no address keys; skip defensively
    HistoryEntry h = entryOf(e, key);
    if (!h.holds) {
      return Status::notFound(key + " was not held at " + formatTime(at) + " (" + e.op + " at " +
                              formatTime(e.time) + " by " + e.actor + ")");
    }
    return h;
  }
  return Status::notFound("no record of " + key + " at or before " + formatTime(at));
}

Result<std::vector<HistoryEntry>> History::lineage(const std::string& key, Millis from, Millis to,
                                                   std::size_t limit) const {
  std::vector<HistoryEntry> out;
  if (from > 0) {
    auto start = holderAt(key, from);
    if (start) out.push_back(*start);
  }
  EventQuery q;
  q.key = key;
  q.from = from;
  q.to = to;
  q.limit = limit;
  auto events = store_.queryEvents(q);
  if (!events) return events.status();
  for (const auto& e : *events) {
    if (!out.empty() && out.front().event.seq == e.seq) continue;
    out.push_back(entryOf(e, key));
  }
  return out;
}

Result<std::vector<EventRecord>> History::audit(const EventQuery& query) const {
  return store_.queryEvents(query);
}

Result<std::vector<EventRecord>> History::eventsAfter(std::uint64_t position,
                                                      std::size_t limit) const {
  return store_.eventsAfter(position, limit);
}

}  // namespace netledger::ledger
