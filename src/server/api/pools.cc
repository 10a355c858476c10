// /v1/pools: IP pools, their hierarchy and utilization.

#include <set>

#include <boost/json.hpp>

#include "common/parse.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

json::object poolJson(const ledger::PoolView& v) {
  json::object o = ledger::toJson(v.record);
  o["utilization"] = ledger::countsToJson(v.counts);
  o["alert"] = v.counts.utilization() >= v.record.threshold;
  json::array children;
  for (const auto& c : v.children) children.emplace_back(c);
  o["children"] = std::move(children);
  o["bindings"] = v.bindings;
  return o;
}

// Reads the fields shared by create and patch into `r`.
Status readPoolFields(const JsonBody& body, ledger::PoolRecord& r) {
  if (auto v = body.optIp("gateway"); !v) {
    return v.status();
  } else if (*v) {
    r.gateway = **v;
  }
  auto ranges = body.ranges("ranges");
  if (!ranges) return ranges.status();
  r.ranges = *ranges;
  auto reserved = body.ranges("reserved");
  if (!reserved) return reserved.status();
  r.reserved = *reserved;
  auto enforcement = body.optString("enforcement", 16);
  if (!enforcement) return enforcement.status();
  r.enforcement = enforcement->value_or("");
  return Status::ok();
}

Result<ledger::PoolCreate> parsePoolCreate(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"name",          "network",     "cidr",
                                     "cidrs",         "gateway",     "ranges",
                                     "reserved",      "tenant",      "cluster",
                                     "vlan",          "vni",         "default_ttl_s",
                                     "quarantine_s",  "threshold",   "parent",
                                     "prefix_length", "auto_expand", "expand_prefix_length",
                                     "external",      "dhcp",        "enforcement"}));
  ledger::PoolCreate c;
  auto& r = c.record;
  auto name = body.string("name", 63);
  if (!name) return name.status();
  r.name = *name;
  if (auto v = body.optString("network", 63); !v)
    return v.status();
  else if (*v)
    r.network = **v;
  if (body.has("cidr") && body.has("cidrs")) {
    return Status::invalidArgument("cidrs: give cidr or cidrs, not both");
  }
  auto cidrs = body.prefixes(body.has("cidrs") ? "cidrs" : "cidr");
  if (!cidrs) return cidrs.status();
  r.cidrs = *cidrs;
  NL_RETURN_IF_ERROR(readPoolFields(body, r));
  if (auto v = body.optString("tenant", 63); !v)
    return v.status();
  else if (*v)
    r.tenant = **v;
  if (auto v = body.optString("cluster", 253); !v)
    return v.status();
  else if (*v)
    r.cluster = **v;
  if (auto v = body.optInt("vlan", 0, 4094); !v)
    return v.status();
  else if (*v)
    r.vlan = static_cast<int>(**v);
  if (auto v = body.optInt("vni", 0, (1 << 24) - 1); !v)
    return v.status();
  else if (*v)
    r.vni = static_cast<std::uint32_t>(**v);
  if (auto v = body.optInt("default_ttl_s", 0, 3650LL * 86400); !v)
    return v.status();
  else if (*v)
    r.default_ttl_s = **v;
  if (auto v = body.optInt("quarantine_s", 0, 365LL * 86400); !v)
    return v.status();
  else if (*v)
    r.quarantine_s = **v;
  if (auto v = body.optDouble("threshold", 0.01, 1.0); !v)
    return v.status();
  else if (*v)
    r.threshold = **v;
  if (auto v = body.optString("parent", 63); !v)
    return v.status();
  else if (*v)
    r.parent = **v;
  if (auto v = body.optInt("prefix_length", 0, 128); !v)
    return v.status();
  else if (*v)
    c.prefix_length = static_cast<int>(**v);
  if (auto v = body.optBool("auto_expand"); !v)
    return v.status();
  else if (*v)
    r.auto_expand = **v;
  if (auto v = body.optBool("external"); !v)
    return v.status();
  else if (*v)
    r.external = **v;
  if (auto v = body.optInt("expand_prefix_length", 0, 128); !v)
    return v.status();
  else if (*v)
    r.expand_prefix_length = static_cast<int>(**v);
  if (const json::value* dhcp = body.value("dhcp")) {
    auto settings = ledger::poolDhcpFromJson(*dhcp);
    if (!settings) return settings.status();
    r.dhcp = *settings;
  }
  return c;
}

Result<ledger::PoolPatch> parsePatch(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly(
      {"gateway", "ranges", "reserved", "tenant", "cluster", "vlan", "vni", "default_ttl_s",
       "quarantine_s", "threshold", "auto_expand", "expand_prefix_length", "dhcp", "enforcement"}));
  ledger::PoolPatch p;
  if (body.has("gateway")) {
    auto g = body.optIp("gateway");
    if (!g) return g.status();
    p.gateway = *g;
  }
  if (body.has("ranges")) {
    auto r = body.ranges("ranges");
    if (!r) return r.status();
    p.ranges = *r;
  }
  if (body.has("reserved")) {
    auto r = body.ranges("reserved");
    if (!r) return r.status();
    p.reserved = *r;
  }
  if (body.has("tenant")) {
    auto v = body.optString("tenant", 63);
    if (!v) return v.status();
    p.tenant = v->value_or("");
  }
  if (body.has("cluster")) {
    auto v = body.optString("cluster", 253);
    if (!v) return v.status();
    p.cluster = v->value_or("");
  }
  if (body.has("vlan")) {
    auto v = body.optInt("vlan", 0, 4094);
    if (!v) return v.status();
    p.vlan = *v ? std::optional<int>(static_cast<int>(**v)) : std::nullopt;
  }
  if (body.has("vni")) {
    auto v = body.optInt("vni", 0, (1 << 24) - 1);
    if (!v) return v.status();
    p.vni = *v ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(**v)) : std::nullopt;
  }
  if (auto v = body.optInt("default_ttl_s", 0, 3650LL * 86400); !v)
    return v.status();
  else
    p.default_ttl_s = *v;
  if (auto v = body.optInt("quarantine_s", 0, 365LL * 86400); !v)
    return v.status();
  else
    p.quarantine_s = *v;
  if (auto v = body.optDouble("threshold", 0.01, 1.0); !v)
    return v.status();
  else
    p.threshold = *v;
  if (auto v = body.optBool("auto_expand"); !v)
    return v.status();
  else
    p.auto_expand = *v;
  if (auto v = body.optInt("expand_prefix_length", 0, 128); !v)
    return v.status();
  else if (*v)
    p.expand_prefix_length = static_cast<int>(**v);
  if (const json::value* dhcp = body.value("dhcp")) {
    auto settings = ledger::poolDhcpFromJson(*dhcp);
    if (!settings) return settings.status();
    p.dhcp = *settings;
  }
  if (body.has("enforcement")) {
    auto v = body.optString("enforcement", 16);
    if (!v) return v.status();
    p.enforcement = v->value_or("");  // null: back to the agent's own mode
  }
  return p;
}

Result<std::size_t> parseMaxCells(const http::Request& req) {
  auto v = req.queryParam("max_cells");
  if (!v) return ledger::PoolMapBuilder::kDefaultMaxCells;
  auto n = parseInteger("max_cells", *v, 1,
                        static_cast<std::int64_t>(ledger::PoolMapBuilder::kMaxCells));
  if (!n) return n.status();
  return static_cast<std::size_t>(*n);
}

// The pool and every pool carved from it, at any depth (a parent's map shows its children's).
std::set<std::string> familyOf(ApiContext& ctx, const Actor& actor, const std::string& pool) {
  std::set<std::string> family{pool};
  std::vector<std::string> todo{pool};
  while (!todo.empty()) {
    auto view = ctx.ledger.getPool(actor, todo.back());
    todo.pop_back();
    if (!view) continue;
    for (const auto& child : view->children) {
      if (family.insert(child).second) todo.push_back(child);
    }
  }
  return family;
}

// The addresses of the unresolved conflicts of the pool (and its children), painted over the
// heat map.
std::vector<addr::IpAddress> conflictAddresses(ApiContext& ctx,
                                               const std::set<std::string>& pools) {
  std::vector<addr::IpAddress> out;
  if (ctx.engine == nullptr) return out;
  for (auto status : {engine::ConflictStatus::kOpen, engine::ConflictStatus::kAcknowledged}) {
    engine::ConflictFilter filter;
    filter.status = status;
    std::string cursor;
    do {
      auto page = ctx.engine->list(filter, cursor, 1000);
      if (!page) break;
      for (const auto& c : page->items) {
        if (!pools.contains(c.pool) || c.ip.empty()) continue;
        if (auto ip = addr::IpAddress::parse(c.ip)) out.push_back(*ip);
      }
      cursor = page->next_cursor;
    } while (!cursor.empty());
  }
  return out;
}

json::value forecastJson(ApiContext& ctx, const std::string& pool) {
  if (ctx.engine == nullptr) return nullptr;
  auto f = ctx.engine->forecast(pool);
  if (!f) return nullptr;
  json::object o{{"allocations_per_hour", f->allocations_per_hour}};
  o["exhaustion_in_s"] = f->exhaustion_in_s ? json::value(*f->exhaustion_in_s) : nullptr;
  std::optional<ledger::Millis> at;
  if (f->exhaustion_in_s) at = engine::exhaustionAt(ctx.engine->now(), *f->exhaustion_in_s);
  o["exhaustion_at"] = at ? json::value(ledger::formatTime(*at)) : nullptr;
  return o;
}

json::object poolMapJson(ApiContext& ctx, const ledger::PoolView& view,
                         const ledger::PoolMap& map) {
  json::array blocks;
  for (const auto& b : map.blocks) {
    json::object o{{"cidr", b.cidr.toString()}, {"first", b.cidr.first().toString()}};
    o["cells"] = b.cells;
    o["fill"] = b.fill.empty() ? json::value(nullptr) : json::value(b.fill);
    blocks.emplace_back(std::move(o));
  }
  json::object o{{"pool", view.record.name}, {"network", view.record.network}};
  o["cell_size"] = addr::AddressCount::twoToThe(map.cell_bits).toString();
  o["cells_total"] = map.cellCount();
  o["blocks"] = std::move(blocks);
  o["counts"] = ledger::countsToJson(view.counts);
  o["threshold"] = view.record.threshold;
  o["forecast"] = forecastJson(ctx, view.record.name);
  o["legend"] =
      json::object{{".", "free"},        {"u", "used"},     {"p", "probing"}, {"r", "reserved"},
                   {"q", "quarantined"}, {"c", "conflict"}, {"-", "unusable"}};
  return o;
}

// A pool's `enforcement` changes what the guard of every shared bridge does (an off port is not
// guarded, and can then claim others' pairs): only an admin of every tenant may set it.
Status mayGuard(const JsonBody& body, const Actor& actor) {
  if (!body.has("enforcement") || (actor.role == ledger::Role::kAdmin && actor.tenants.empty())) {
    return Status::ok();
  }
  return Status::forbidden("enforcement: only an admin without tenant scope may set it");
}

void handleCreatePool(ApiContext& ctx, http::Request& req, http::Responder res,
                      const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  if (Status s = mayGuard(*body, actor); !s.isOk()) return respondError(res, s);
  auto create = parsePoolCreate(*body);
  if (!create) return respondError(res, create.status());
  auto applied = ctx.ledger.createPool(actor, std::move(create).value());
  if (!applied) return respondError(res, applied.status());
  auto response = http::Response::json(201, json::serialize(poolJson(applied->value)));
  response.headers.set("Location", "/v1/pools/" + applied->value.record.name);
  respondWhenDurable(ctx, applied->ticket, std::move(res), std::move(response));
}

void handleListPools(ApiContext& ctx, http::Request&, http::Responder res, const Actor& actor) {
  json::array items;
  for (const auto& v : ctx.ledger.listPools(actor)) items.emplace_back(poolJson(v));
  respondJson(res, 200, json::object{{"items", std::move(items)}});
}

void handleGetPool(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto v = ctx.ledger.getPool(actor, std::string(req.param("name")));
  if (!v) return respondError(res, v.status());
  respondJson(res, 200, poolJson(*v));
}

void handleMap(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto max_cells = parseMaxCells(req);
  if (!max_cells) return respondError(res, max_cells.status());
  std::string name(req.param("name"));
  auto map = ctx.ledger.poolMap(actor, name, *max_cells,
                                conflictAddresses(ctx, familyOf(ctx, actor, name)));
  if (!map) return respondError(res, map.status());
  respondJson(res, 200, poolMapJson(ctx, map->first, map->second));
}

void handlePatch(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  if (Status s = mayGuard(*body, actor); !s.isOk()) return respondError(res, s);
  auto patch = parsePatch(*body);
  if (!patch) return respondError(res, patch.status());
  auto applied = ctx.ledger.updatePool(actor, std::string(req.param("name")), *patch);
  if (!applied) return respondError(res, applied.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(200, json::serialize(poolJson(applied->value))));
}

void handleDeletePool(ApiContext& ctx, http::Request& req, http::Responder res,
                      const Actor& actor) {
  auto applied = ctx.ledger.deletePool(actor, std::string(req.param("name")));
  if (!applied) return respondError(res, applied.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res), http::Response::noContent());
}

}  // namespace

// Roles and tenants are the ledger's pool commands' own rules.
Status registerPoolRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/pools", withAuth(ctx, handleCreatePool)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/pools", withAuth(ctx, handleListPools)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/pools/{name}", withAuth(ctx, handleGetPool)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/pools/{name}/map", withAuth(ctx, handleMap)));
  NL_RETURN_IF_ERROR(router.add("PATCH", "/v1/pools/{name}", withAuth(ctx, handlePatch)));
  return router.add("DELETE", "/v1/pools/{name}", withAuth(ctx, handleDeletePool));
}

}  // namespace netledger::server
