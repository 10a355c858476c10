// /v1/scans: active scans of a pool, carried out by one node's agent. A scan is a ledger
// document (kind "scan"), so it is durable and audited without a schema of its own:
//   POST /v1/scans              -> "pending", with the address ranges to probe; audited as
//                                  "scan.requested", which is how the agent named in `via`
//                                  learns of it (the event stream carries the body)
//   POST /v1/scans/{id}/result  -> "done", with what the ledger makes of the answers: stations
//                                  at addresses no binding holds, active bindings that stayed
//                                  silent; audited as "scan.completed". Every answer also goes
//                                  to the consistency engine as an observation.
#include <algorithm>
#include <mutex>
#include <set>

#include <boost/json.hpp>

#include "common/parse.h"
#include "engine/engine.h"
#include "engine/observation.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"

namespace netledger::server {

namespace json = boost::json;
using addr::IpAddress;
using addr::uint128;
using ledger::Actor;

namespace {

constexpr const char* kScanDoc = "scan";
constexpr const char* kScanIdPrefix = "scan-";
// An agent probes at most this many addresses per scan (a /16); bigger pools are scanned by
// their children. Also bounds the result body.
constexpr std::uint64_t kMaxScanAddresses = 65'536;
// 65,536 answers of ~60 bytes each, with room for pretty-printed JSON.
constexpr std::size_t kScanResultBodyLimit = 8u << 20;

// Serializes id assignment and the pending -> done transition, which read a document, decide,
// and write it back: putDocument alone would let two results both complete one scan.
std::mutex& scanMutex() {
  static std::mutex mu;
  return mu;
}

Status requireOperator(const Actor& actor, std::string_view what) {
  if (actor.role >= ledger::Role::kOperator) return Status::ok();
  return Status(StatusCode::kForbidden, "token \"" + actor.name + "\" may not " +
                                            std::string(what) + ": needs role operator");
}

// An inclusive interval of address bits of one family.
struct Span {
  uint128 first, last;
};

// `spans` (sorted, disjoint) minus [first, last].
std::vector<Span> subtract(const std::vector<Span>& spans, uint128 first, uint128 last) {
  std::vector<Span> out;
  for (const Span& s : spans) {
    if (last < s.first || s.last < first) {
      out.push_back(s);
      continue;
    }
    if (s.first < first) out.push_back({s.first, first - 1});
    if (last < s.last) out.push_back({last + 1, s.last});
  }
  return out;
}

// The pool's allocatable addresses as sorted inclusive ranges (per CIDR: its allocation ranges
// or all of it, minus the IPv4 network and broadcast addresses, the gateway and the reserved
// ranges: what the allocator may hand out), and how many there are. The same rules as the
// allocator's layout (Ledger::makeBlock). kInvalidArgument naming `pool` above the limit.
Result<std::vector<addr::IpRange>> scanRanges(const ledger::PoolRecord& p, std::uint64_t& count) {
  std::vector<addr::IpRange> out;
  count = 0;
  for (const auto& cidr : p.cidrs) {
    std::vector<Span> spans;
    for (const auto& r : p.ranges) {
      if (cidr.contains(r.first())) spans.push_back({r.first().bits(), r.last().bits()});
    }
    if (spans.empty()) spans.push_back({cidr.first().bits(), cidr.last().bits()});
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.first < b.first; });
    if (cidr.hasNetworkAndBroadcast()) {
      spans = subtract(spans, cidr.first().bits(), cidr.first().bits());
      spans = subtract(spans, cidr.last().bits(), cidr.last().bits());
    }
    if (p.gateway && cidr.contains(*p.gateway)) {
      spans = subtract(spans, p.gateway->bits(), p.gateway->bits());
    }
    for (const auto& r : p.reserved) {
      if (cidr.contains(r.first())) spans = subtract(spans, r.first().bits(), r.last().bits());
    }
    for (const Span& s : spans) {
      // Compared before adding one: a whole IPv6 space would wrap around.
      if (s.last - s.first >= kMaxScanAddresses ||
          count + (s.last - s.first) >= kMaxScanAddresses) {
        return Status::invalidArgument("pool: \"" + p.name + "\" has more than " +
                                       std::to_string(kMaxScanAddresses) +
                                       " addresses to scan; scan its children or a smaller pool");
      }
      count += static_cast<std::uint64_t>(s.last - s.first) + 1;
      auto first = IpAddress::fromBits(cidr.family(), s.first);
      auto last = IpAddress::fromBits(cidr.family(), s.last);
      out.push_back(addr::IpRange::make(first, last).value());
    }
  }
  return out;
}

std::string stringOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool inRanges(const json::array& ranges, const IpAddress& ip) {
  for (const auto& r : ranges) {
    const json::object* o = r.if_object();
    if (o == nullptr) continue;
    auto first = IpAddress::parse(stringOf(*o, "start"));
    auto last = IpAddress::parse(stringOf(*o, "end"));
    if (first && last && first->family() == ip.family() && *first <= ip && ip <= *last) {
      return true;
    }
  }
  return false;
}

// "scan-12" -> 12 (0 for anything else), for ordering and the next id.
std::uint64_t scanNumber(std::string_view id) {
  if (id.rfind(kScanIdPrefix, 0) != 0) return 0;
  id.remove_prefix(std::string_view(kScanIdPrefix).size());
  return parseUnsigned("scan id", id).valueOr(0);
}

Result<json::object> parseStored(const ledger::DocumentRecord& d) {
  json::error_code ec;
  auto v = json::parse(d.body, ec);
  if (ec || !v.is_object()) return Status::internal("scan " + d.key + ": stored body is bad");
  return std::move(v.as_object());
}

// The scan `id` if it exists and `actor` may see its pool; kNotFound otherwise.
Result<json::object> visibleScan(ApiContext& ctx, const Actor& actor, const std::string& id) {
  auto d = ctx.ledger.document(kScanDoc, id);
  Status missing = Status::notFound("scan \"" + id + "\" not found");
  if (!d) return missing;
  auto body = parseStored(*d);
  if (!body) return body.status();
  if (!actor.tenants.empty() && !ctx.ledger.getPool(actor, stringOf(*body, "pool")).isOk()) {
    return missing;
  }
  return body;
}

struct Answer {
  IpAddress ip;
  addr::Mac mac;
};

// {"answered": [{"ip", "mac"}, ...], "probed": N}; every error names the element.
Result<std::vector<Answer>> parseAnswers(const JsonBody& body, const json::array& ranges) {
  std::vector<Answer> out;
  const json::value* answered = body.value("answered");
  if (answered == nullptr || answered->is_null()) return out;
  if (!answered->is_array()) return badField("answered", "must be an array", *answered);
  if (answered->as_array().size() > kMaxScanAddresses) {
    return Status::invalidArgument("answered: at most " + std::to_string(kMaxScanAddresses) +
                                   " entries");
  }
  std::size_t i = 0;
  for (const auto& item : answered->as_array()) {
    const std::string where = "answered[" + std::to_string(i++) + "]";
    if (!item.is_object()) return badField(where, "must be an object {ip, mac}", item);
    const json::object& o = item.as_object();
    for (const auto& kv : o) {
      if (kv.key() != "ip" && kv.key() != "mac") {
        return Status::invalidArgument(where + "." + std::string(kv.key().substr(0, 40)) +
                                       ": unknown field (known: ip, mac)");
      }
    }
    const json::value* ip_value = o.if_contains("ip");
    if (ip_value == nullptr || !ip_value->is_string()) {
      return ip_value == nullptr ? Status::invalidArgument(where + ".ip: required")
                                 : badField(where + ".ip", "must be a string", *ip_value);
    }
    auto ip = IpAddress::parse(ip_value->as_string());
    if (!ip) return ip.status().withContext(where + ".ip");
    if (!inRanges(ranges, *ip)) {
      return Status::invalidArgument(where + ".ip: " + ip->toString() +
                                     " is not one of the scan's addresses");
    }
    const json::value* mac_value = o.if_contains("mac");
    if (mac_value == nullptr || !mac_value->is_string()) {
      return mac_value == nullptr ? Status::invalidArgument(where + ".mac: required")
                                  : badField(where + ".mac", "must be a string", *mac_value);
    }
    auto mac = addr::Mac::parse(mac_value->as_string());
    if (!mac) return mac.status().withContext(where + ".mac");
    if (mac->isMulticast() || mac->isZero()) {
      return Status::invalidArgument(where + ".mac: " + mac->toString() +
                                     " is not a unicast station address");
    }
    out.push_back({*ip, *mac});
  }
  return out;
}

// Answers at addresses no binding (active or reserved) holds in the scan's network.
json::array unknownStations(ApiContext& ctx, const std::string& network,
                            const std::vector<Answer>& answers) {
  std::vector<ledger::WireQuery> queries;
  queries.reserve(answers.size());
  for (const auto& a : answers) queries.push_back({network, a.ip, a.mac});
  auto facts = ctx.ledger.lookupWire(queries);
  json::array out;
  std::set<std::pair<IpAddress, std::uint64_t>> seen;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (facts[i].ip_holder) continue;
    if (!seen.insert({answers[i].ip, answers[i].mac.value()}).second) continue;
    out.emplace_back(
        json::object{{"ip", answers[i].ip.toString()}, {"mac", answers[i].mac.toString()}});
  }
  return out;
}

// Active bindings holding an address of the scan that did not answer.
Result<json::array> silentBindings(ApiContext& ctx, const Actor& actor, const std::string& pool,
                                   const json::array& ranges, const std::vector<Answer>& answers) {
  std::set<IpAddress> answered;
  for (const auto& a : answers) answered.insert(a.ip);
  ledger::BindingFilter filter;
  filter.pool = pool;
  filter.state = ledger::BindingState::kActive;
  json::array out;
  std::string cursor;
  do {
    auto page = ctx.ledger.searchBindings(actor, filter, cursor, 1000);
    if (!page) return page.status();
    for (const auto& b : page->items) {
      for (const auto& a : b.addresses) {
        if (a.pool != pool || answered.contains(a.ip) || !inRanges(ranges, a.ip)) continue;
        json::object o{
            {"id", std::to_string(b.id)}, {"instance", b.instance}, {"ip", a.ip.toString()}};
        o["mac"] = b.mac ? json::value(b.mac->toString()) : json::value(nullptr);
        out.emplace_back(std::move(o));
      }
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return out;
}

void observeAnswers(ApiContext& ctx, const std::string& network, const std::string& via,
                    const std::vector<Answer>& answers) {
  if (ctx.engine == nullptr || answers.empty()) return;
  std::vector<engine::Observation> batch;
  batch.reserve(answers.size());
  const ledger::Millis now = ctx.engine->now();
  for (const auto& a : answers) {
    engine::Observation o;
    o.ip = a.ip;
    o.mac = a.mac;
    o.network = network;
    o.host = via;
    o.source = engine::Source::kAgent;
    o.kind = a.ip.isV4() ? engine::FrameKind::kArpReply : engine::FrameKind::kNeighborAdvertisement;
    o.time = now;
    batch.push_back(std::move(o));
  }
  // A full queue loses these conflicts (the engine counts the drop), not the scan's result.
  (void)ctx.engine->submit(std::move(batch));
}

Status checkVia(const std::string& via) {
  if (via.empty()) return Status::invalidArgument("via: required (the node whose agent scans)");
  for (unsigned char c : via) {
    if (c < 0x20 || c == 0x7f) {
      return Status::invalidArgument("via: control characters are not allowed");
    }
  }
  return Status::ok();
}

void createScan(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  if (Status s = requireOperator(actor, "request scans"); !s.isOk()) return respondError(res, s);
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  if (Status s = body->allowOnly({"pool", "via", "rate_per_s"}); !s.isOk()) {
    return respondError(res, s);
  }
  auto pool_name = body->string("pool", 63);
  if (!pool_name) return respondError(res, pool_name.status());
  auto via = body->string("via", 253);
  if (!via) return respondError(res, via.status());
  if (Status s = checkVia(*via); !s.isOk()) return respondError(res, s);
  auto rate = body->optInt("rate_per_s", 1, 10'000);
  if (!rate) return respondError(res, rate.status());
  auto pool = ctx.ledger.getPool(actor, *pool_name);
  if (!pool) return respondError(res, pool.status().withContext("pool"));
  if (!pool->children.empty()) {
    return respondError(res, Status::invalidArgument("pool: \"" + *pool_name +
                                                     "\" is a parent pool; scan its children"));
  }
  std::uint64_t count = 0;
  auto ranges = scanRanges(pool->record, count);
  if (!ranges) return respondError(res, ranges.status());

  json::array addresses;
  for (const auto& r : *ranges) {
    addresses.emplace_back(
        json::object{{"start", r.first().toString()}, {"end", r.last().toString()}});
  }
  std::lock_guard lock(scanMutex());
  std::uint64_t last = 0;
  for (const auto& d : ctx.ledger.documents(kScanDoc)) last = std::max(last, scanNumber(d.key));
  const std::string id = kScanIdPrefix + std::to_string(last + 1);
  json::object o;
  o["id"] = id;
  o["pool"] = *pool_name;
  o["network"] = pool->record.network;
  // The event stream shows a tenant-limited token only its tenants' records.
  o["tenant"] = pool->record.tenant;
  o["via"] = *via;
  o["rate_per_s"] = rate->value_or(100);
  o["state"] = "pending";
  o["addresses"] = std::move(addresses);
  o["address_count"] = count;
  o["created_by"] = actor.name;
  o["created_at"] = ledger::formatTime(ctx.engine->now());
  std::string text = json::serialize(o);
  auto applied =
      ctx.ledger.putDocument(actor, {kScanDoc, id, text}, "scan.requested", "scan:" + id);
  if (!applied) return respondError(res, applied.status());
  auto response = http::Response::json(201, std::move(text));
  response.headers.set("Location", "/v1/scans/" + id);
  respondWhenDurable(ctx, applied->ticket, std::move(res), std::move(response));
}

void completeScan(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  if (Status s = requireOperator(actor, "report scan results"); !s.isOk()) {
    return respondError(res, s);
  }
  const std::string id(req.param("id"));
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  if (Status s = body->allowOnly({"answered", "probed"}); !s.isOk()) return respondError(res, s);
  auto probed = body->optInt("probed", 0, static_cast<std::int64_t>(kMaxScanAddresses));
  if (!probed) return respondError(res, probed.status());

  std::lock_guard lock(scanMutex());
  auto scan = visibleScan(ctx, actor, id);
  if (!scan) return respondError(res, scan.status());
  if (stringOf(*scan, "state") == "done") {
    return respondError(res, Status::conflict("state: scan \"" + id + "\" is already done"));
  }
  const json::value* ranges = scan->if_contains("addresses");
  static const json::array kNone;
  const json::array& range_list = ranges && ranges->is_array() ? ranges->get_array() : kNone;
  auto answers = parseAnswers(*body, range_list);
  if (!answers) return respondError(res, answers.status());
  const std::string pool = stringOf(*scan, "pool");
  const std::string network = stringOf(*scan, "network");
  auto silent = silentBindings(ctx, actor, pool, range_list, *answers);
  if (!silent) return respondError(res, silent.status());

  json::object done = *scan;
  done["state"] = "done";
  if (*probed) {
    done["probed"] = **probed;
  } else if (const json::value* c = scan->if_contains("address_count")) {
    done["probed"] = *c;
  }
  done["answered_count"] = answers->size();
  done["unknown_stations"] = unknownStations(ctx, network, *answers);
  done["silent_bindings"] = std::move(*silent);
  done["completed_by"] = actor.name;
  done["completed_at"] = ledger::formatTime(ctx.engine->now());
  std::string text = json::serialize(done);
  auto applied =
      ctx.ledger.putDocument(actor, {kScanDoc, id, text}, "scan.completed", "scan:" + id);
  if (!applied) return respondError(res, applied.status());
  observeAnswers(ctx, network, stringOf(*scan, "via"), *answers);
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(200, std::move(text)));
}

void listScans(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto limit = parseLimit(req, 100, 1000);
  if (!limit) return respondError(res, limit.status());
  auto docs = ctx.ledger.documents(kScanDoc);
  std::sort(docs.begin(), docs.end(),
            [](const auto& a, const auto& b) { return scanNumber(a.key) > scanNumber(b.key); });
  json::array items;
  for (const auto& d : docs) {
    if (items.size() >= *limit) break;
    auto body = parseStored(d);
    if (!body) continue;
    if (!actor.tenants.empty() && !ctx.ledger.getPool(actor, stringOf(*body, "pool")).isOk()) {
      continue;
    }
    items.emplace_back(std::move(*body));
  }
  respondJson(res, 200, json::object{{"items", std::move(items)}});
}

}  // namespace

Status registerScanRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(
      router.add("POST", "/v1/scans",
                 withAuth(ctx, [&ctx](http::Request& req, http::Responder res, const Actor& actor) {
                   createScan(ctx, req, std::move(res), actor);
                 })));
  NL_RETURN_IF_ERROR(
      router.add("GET", "/v1/scans",
                 withAuth(ctx, [&ctx](http::Request& req, http::Responder res, const Actor& actor) {
                   listScans(ctx, req, std::move(res), actor);
                 })));
  NL_RETURN_IF_ERROR(
      router.add("GET", "/v1/scans/{id}",
                 withAuth(ctx, [&ctx](http::Request& req, http::Responder res, const Actor& actor) {
                   auto scan = visibleScan(ctx, actor, std::string(req.param("id")));
                   if (!scan) return respondError(res, scan.status());
                   respondJson(res, 200, *scan);
                 })));
  return router.add(
      "POST", "/v1/scans/{id}/result",
      withAuth(ctx, [&ctx](http::Request& req, http::Responder res,
                           const Actor& actor) { completeScan(ctx, req, std::move(res), actor); }),
      http::RouteOptions{kScanResultBodyLimit});
}

}  // namespace netledger::server
