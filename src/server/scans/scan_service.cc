#include "server/scans/scan_service.h"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "common/parse.h"
#include "engine/engine.h"
#include "engine/observation.h"
#include "ledger/codec.h"

namespace netledger::server {

namespace json = boost::json;
using addr::IpAddress;
using addr::uint128;
using ledger::Actor;

namespace {

constexpr const char* kScanDoc = "scan";
constexpr const char* kScanIdPrefix = "scan-";

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

// The allocatable spans of one CIDR of `p`: its allocation ranges or all of it, minus the IPv4
// network and broadcast addresses, the gateway and the reserved ranges (the same rules as the
// allocator's layout, Ledger::makeBlock). Sorted.
std::vector<Span> allocatableSpans(const ledger::PoolRecord& p, const addr::Prefix& cidr) {
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
  return spans;
}

// The pool's allocatable addresses as sorted inclusive ranges, and how many there are.
// kInvalidArgument naming `pool` above the limit.
Result<std::vector<addr::IpRange>> scanRanges(const ledger::PoolRecord& p, std::uint64_t& count) {
  std::vector<addr::IpRange> out;
  count = 0;
  for (const auto& cidr : p.cidrs) {
    for (const Span& s : allocatableSpans(p, cidr)) {
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

// The scan's address ranges as stored ({"start", "end"} objects).
const json::array& rangesOf(const json::object& scan) {
  static const json::array kNone;
  const json::value* ranges = scan.if_contains("addresses");
  return ranges && ranges->is_array() ? ranges->get_array() : kNone;
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

// Whether `actor` sees the scan: a tenant-limited token, only those of pools it sees.
bool mayView(const ledger::Ledger& ledger, const Actor& actor, const json::object& scan) {
  return actor.tenants.empty() || ledger.getPool(actor, stringOf(scan, "pool")).isOk();
}

}  // namespace

ScanService::ScanService(ledger::Ledger& ledger, engine::Engine* engine, Clock& clock)
    : ledger_(ledger), engine_(engine), clock_(clock) {}

std::string ScanService::nowText() const {
  return ledger::formatTime(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count());
}

Result<ledger::Applied<json::object>> ScanService::store(const Actor& actor, json::object scan,
                                                         const std::string& op) {
  const std::string id(scan["id"].as_string());
  std::string text = json::serialize(scan);
  auto applied = ledger_.putDocument(actor, {kScanDoc, id, text}, op, "scan:" + id);
  if (!applied) return applied.status();
  return ledger::Applied<json::object>{std::move(scan), true, applied->ticket, std::move(text)};
}

Result<ledger::Applied<json::object>> ScanService::request(const Actor& actor,
                                                           const ScanRequest& request) {
  auto pool = ledger_.getPool(actor, request.pool);
  if (!pool) return pool.status().withContext("pool");
  if (!pool->children.empty()) {
    return Status::invalidArgument("pool: \"" + request.pool +
                                   "\" is a parent pool; scan its children");
  }
  std::uint64_t count = 0;
  auto ranges = scanRanges(pool->record, count);
  if (!ranges) return ranges.status();
  json::array addresses;
  for (const auto& r : *ranges) {
    addresses.emplace_back(
        json::object{{"start", r.first().toString()}, {"end", r.last().toString()}});
  }
  std::lock_guard lock(mu_);
  std::uint64_t last = 0;
  for (const auto& d : ledger_.documents(kScanDoc)) last = std::max(last, scanNumber(d.key));
  const std::string id = kScanIdPrefix + std::to_string(last + 1);
  json::object o;
  o["id"] = id;
  o["pool"] = request.pool;
  o["network"] = pool->record.network;
  // The event stream shows a tenant-limited token only its tenants' records.
  o["tenant"] = pool->record.tenant;
  o["via"] = request.via;
  o["rate_per_s"] = request.rate_per_s;
  o["state"] = "pending";
  o["addresses"] = std::move(addresses);
  o["address_count"] = count;
  o["created_by"] = actor.name;
  o["created_at"] = nowText();
  return store(actor, std::move(o), "scan.requested");
}

Result<ledger::Applied<json::object>> ScanService::complete(const Actor& actor,
                                                            const std::string& id,
                                                            const ScanReport& report) {
  std::lock_guard lock(mu_);
  auto scan = get(actor, id);
  if (!scan) return scan.status();
  if (stringOf(*scan, "state") == "done") {
    return Status::conflict("state: scan \"" + id + "\" is already done");
  }
  const json::array& ranges = rangesOf(*scan);
  for (std::size_t i = 0; i < report.answered.size(); ++i) {
    const IpAddress& ip = report.answered[i].ip;
    if (!inRanges(ranges, ip)) {
      return Status::invalidArgument("answered[" + std::to_string(i) + "].ip: " + ip.toString() +
                                     " is not one of the scan's addresses");
    }
  }
  const std::string pool = stringOf(*scan, "pool");
  const std::string network = stringOf(*scan, "network");
  auto silent = silentBindings(actor, pool, ranges, report.answered);
  if (!silent) return silent.status();

  json::object done = *scan;
  done["state"] = "done";
  if (report.probed) {
    done["probed"] = *report.probed;
  } else if (const json::value* c = scan->if_contains("address_count")) {
    done["probed"] = *c;
  }
  done["answered_count"] = report.answered.size();
  done["unknown_stations"] = unknownStations(network, report.answered);
  done["silent_bindings"] = std::move(*silent);
  done["completed_by"] = actor.name;
  done["completed_at"] = nowText();
  auto stored = store(actor, std::move(done), "scan.completed");
  if (stored) observe(network, stringOf(*scan, "via"), report.answered);
  return stored;
}

Result<json::object> ScanService::get(const Actor& actor, const std::string& id) const {
  auto d = ledger_.document(kScanDoc, id);
  Status missing = Status::notFound("scan \"" + id + "\" not found");
  if (!d) return missing;
  auto body = parseStored(*d);
  if (!body) return body.status();
  if (!mayView(ledger_, actor, *body)) return missing;
  return body;
}

std::vector<json::object> ScanService::list(const Actor& actor, std::size_t limit) const {
  auto docs = ledger_.documents(kScanDoc);
  std::sort(docs.begin(), docs.end(),
            [](const auto& a, const auto& b) { return scanNumber(a.key) > scanNumber(b.key); });
  std::vector<json::object> out;
  for (const auto& d : docs) {
    if (out.size() >= limit) break;
    auto body = parseStored(d);
    if (!body || !mayView(ledger_, actor, *body)) continue;
    out.push_back(std::move(*body));
  }
  return out;
}

json::array ScanService::unknownStations(const std::string& network,
                                         const std::vector<ScanAnswer>& answers) const {
  std::vector<ledger::WireQuery> queries;
  queries.reserve(answers.size());
  for (const auto& a : answers) queries.push_back({network, a.ip, a.mac});
  auto facts = ledger_.lookupWire(queries);
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

Result<json::array> ScanService::silentBindings(const Actor& actor, const std::string& pool,
                                                const json::array& ranges,
                                                const std::vector<ScanAnswer>& answers) const {
  std::set<IpAddress> answered;
  for (const auto& a : answers) answered.insert(a.ip);
  ledger::BindingFilter filter;
  filter.pool = pool;
  filter.state = ledger::BindingState::kActive;
  json::array out;
  std::string cursor;
  do {
    auto page = ledger_.searchBindings(actor, filter, cursor, 1000);
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

void ScanService::observe(const std::string& network, const std::string& via,
                          const std::vector<ScanAnswer>& answers) {
  if (engine_ == nullptr || answers.empty()) return;
  std::vector<engine::Observation> batch;
  batch.reserve(answers.size());
  const ledger::Millis now = engine_->now();
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
  (void)engine_->submit(std::move(batch));
}

}  // namespace netledger::server
