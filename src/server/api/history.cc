// /v1/history (holder at an instant, lineage over a window) and /v1/audit (the event log).

#include <boost/json.hpp>

#include "common/parse.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "store/etcd/etcd_records.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

json::object entryJson(const ledger::HistoryEntry& h) {
  json::object o;
  o["seq"] = h.event.seq;
  o["time"] = ledger::formatTime(h.event.time);
  o["op"] = h.event.op;
  o["actor"] = h.event.actor;
  o["holds"] = h.holds;
  if (h.holder) {
    const auto& b = *h.holder;
    o["binding_id"] = std::to_string(b.id);
    o["instance"] = b.instance;
    o["interface"] = b.interface;
    o["mac"] = b.mac ? json::value(b.mac->toString()) : json::value(nullptr);
    o["host"] = b.host.empty() ? json::value(nullptr) : json::value(b.host);
    json::array addresses;
    for (const auto& a : b.addresses) addresses.emplace_back(a.ip.toString());
    o["addresses"] = std::move(addresses);
    o["since"] = ledger::formatTime(b.created_at);
  }
  return o;
}

// The history key from exactly one of ip=, mac=, instance=.
Result<std::string> historyKey(const http::Request& req) {
  std::vector<std::string> keys;
  if (auto v = req.queryParam("ip")) {
    auto ip = addr::IpAddress::parse(*v);
    if (!ip) return ip.status().withContext("ip");
    keys.push_back("ip:" + ip->toString());
  }
  if (auto v = req.queryParam("mac")) {
    auto m = addr::Mac::parse(*v);
    if (!m) return m.status().withContext("mac");
    keys.push_back("mac:" + m->toString());
  }
  if (auto v = req.queryParam("instance")) {
    if (v->empty()) return Status::invalidArgument("instance: empty");
    keys.push_back("instance:" + std::string(*v));
  }
  if (keys.size() != 1) {
    return Status::invalidArgument("ip: give exactly one of ip, mac or instance");
  }
  return keys.front();
}

Result<std::optional<ledger::Millis>> timeParam(const http::Request& req, std::string_view name) {
  auto v = req.queryParam(name);
  if (!v) return std::optional<ledger::Millis>();
  auto t = ledger::parseTime(*v);
  if (!t) return t.status().withContext(name);
  return std::optional<ledger::Millis>(*t);
}

bool visible(const Actor& actor, const ledger::HistoryEntry& h) {
  return !h.holder || actor.mayAccessTenant(h.holder->tenant);
}

void handleHistory(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto key = historyKey(req);
  if (!key) return respondError(res, key.status());
  auto at = timeParam(req, "at");
  auto from = timeParam(req, "from");
  auto to = timeParam(req, "to");
  for (auto* r : {&at, &from, &to}) {
    if (!*r) return respondError(res, r->status());
  }
  auto limit = parseLimit(req, 1000, 10000);
  if (!limit) return respondError(res, limit.status());
  if (*at && (*from || *to)) {
    return respondError(res, Status::invalidArgument("at: give at, or from/to, not both"));
  }
  json::object o{{"key", *key}};
  if (*at) {
    auto h = ctx.ledger.holderAt(*key, **at);
    if (!h || !visible(actor, *h)) {
      return respondError(res, h ? Status::notFound(*key + " was not held") : h.status());
    }
    o["at"] = ledger::formatTime(**at);
    o["holder"] = entryJson(*h);
    return respondJson(res, 200, o);
  }
  ledger::Millis lo = from->value_or(0), hi = to->value_or(INT64_MAX);
  if (lo > hi) return respondError(res, Status::invalidArgument("from: after to"));
  auto entries = ctx.ledger.lineage(*key, lo, hi, *limit);
  if (!entries) return respondError(res, entries.status());
  json::array items;
  for (const auto& h : *entries) {
    if (visible(actor, h)) items.emplace_back(entryJson(h));
  }
  o["entries"] = std::move(items);
  respondJson(res, 200, o);
}

// Scoped tokens read history per subject instead (see the route's access).
void handleAudit(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  ledger::EventQuery q;
  q.before_seq = UINT64_MAX;  // newest first
  if (auto v = req.queryParam("op")) q.op = std::string(*v);
  if (auto v = req.queryParam("actor")) q.actor = std::string(*v);
  if (req.queryParam("ip") || req.queryParam("mac") || req.queryParam("instance")) {
    auto key = historyKey(req);
    if (!key) return respondError(res, key.status());
    q.key = *key;
  }
  auto from = timeParam(req, "from");
  auto to = timeParam(req, "to");
  if (!from) return respondError(res, from.status());
  if (!to) return respondError(res, to.status());
  if (*from) q.from = **from;
  if (*to) q.to = **to;
  if (auto c = req.queryParam("cursor")) {
    auto seq = parseInteger("cursor", *c, 1);
    if (!seq) return respondError(res, seq.status());
    q.before_seq = static_cast<std::uint64_t>(*seq);
  }
  auto limit = parseLimit(req, 100, 1000);
  if (!limit) return respondError(res, limit.status());
  q.limit = *limit;
  auto events = ctx.ledger.audit(q);
  if (!events) return respondError(res, events.status());
  json::array items;
  for (const auto& e : *events) items.emplace_back(ledger::toJson(e));
  json::object o{{"items", std::move(items)}};
  o["next_cursor"] = events->size() == *limit ? json::value(std::to_string(events->back().seq))
                                              : json::value(nullptr);
  respondJson(res, 200, o);
}

// Every event as this replica keeps it (the store's record, history keys included) ascending
// by seq: what a replica whose archive began after etcd's log was pruned copies the older
// history from (store/etcd/peer_history.h).
void handleExport(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  ledger::EventQuery q;
  auto from = timeParam(req, "from");
  auto before = timeParam(req, "before");
  if (!from) return respondError(res, from.status());
  if (!before) return respondError(res, before.status());
  if (*from) q.from = **from;
  if (*before) q.to = **before - 1;
  if (auto c = req.queryParam("after_seq")) {
    auto seq = parseUnsigned("after_seq", *c);
    if (!seq) return respondError(res, seq.status());
    q.after_seq = *seq;
  }
  auto limit = parseLimit(req, 1000, 10000);
  if (!limit) return respondError(res, limit.status());
  q.limit = *limit;
  // A replica still copying its own older history would hand on a part as if it were all.
  if (!ctx.ledger.store().historyComplete()) {
    return respondError(res, Status::unavailable("this replica's history is still being copied "
                                                 "from a peer (netledger_history_complete 0): "
                                                 "ask another replica"));
  }
  auto events = ctx.ledger.audit(q);
  if (!events) return respondError(res, events.status());
  // The records are JSON already: joined, not parsed and serialized again.
  std::string body = "{\"events\":[";
  for (std::size_t i = 0; i < events->size(); ++i) {
    if (i > 0) body += ',';
    body += store::etcd::encode((*events)[i]);
  }
  body += "],\"next_after_seq\":";
  body += events->size() == *limit ? '"' + std::to_string(events->back().seq) + '"' : "null";
  body += '}';
  res(http::Response::json(200, std::move(body)));
}

}  // namespace

Status registerHistoryRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/history", withAuth(ctx, handleHistory)));
  NL_RETURN_IF_ERROR(
      router.add("GET", "/v1/audit", withAuth(ctx, handleAudit, needsUnscoped("the audit log"))));
  return router.add("GET", "/v1/history/export",
                    withAuth(ctx, handleExport, needsUnscoped("the history export")));
}

}  // namespace netledger::server
