// /v1/portmaps: host ports forwarded to bindings (server/portmaps/port_map.h has the rules), and
// /v1/portranges: each node's own range for automatic host ports. Both are ledger documents,
// so they are durable, replicated and audited like everything else; a mapping is decided under
// the ledger's lock (putDocumentChecked), so no host port is ever handed out twice.
#include <boost/json.hpp>

#include "common/crypto.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"
#include "server/portmaps/port_map.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

const std::string kMapKind(kPortMapKind);
const std::string kRangeKind(kPortRangeKind);

// Every stored mapping (a damaged document is skipped: it cannot hold a port it cannot name).
std::vector<PortMap> storedMaps(const std::vector<ledger::DocumentRecord>& docs) {
  std::vector<PortMap> out;
  out.reserve(docs.size());
  for (const auto& d : docs) {
    if (auto m = portMapFromDocument(d.body)) out.push_back(std::move(*m));
  }
  return out;
}

// The binding's address of `family` (the first), if any.
std::optional<addr::IpAddress> addressOf(const ledger::BindingRecord& b, addr::IpFamily family) {
  for (const auto& a : b.addresses) {
    if (a.ip.family() == family) return a.ip;
  }
  return std::nullopt;
}

// The binding `id` while it holds its addresses (reserved or active); absent otherwise.
Result<ledger::BindingRecord> liveBinding(ApiContext& ctx, const Actor& actor, std::uint64_t id) {
  auto b = ctx.ledger.getBinding(actor, id);
  if (b && b->state != ledger::BindingState::kReserved &&
      b->state != ledger::BindingState::kActive) {
    return Status::notFound("binding " + std::to_string(id) + " is " +
                            std::string(ledger::bindingStateName(b->state)));
  }
  return b;
}

// A mapping as the API shows it: the stored form plus `address`, the binding's address it
// forwards to now (null when the binding is gone: the mapping forwards nothing).
json::object shownMap(ApiContext& ctx, const Actor& actor, const PortMap& m) {
  json::object o = toJson(m);
  auto b = liveBinding(ctx, actor, m.binding_id);
  auto ip = b ? addressOf(*b, m.family) : std::nullopt;
  if (ip) {
    o["address"] = ip->toString();
  } else {
    o["address"] = nullptr;
  }
  return o;
}

// The range automatic host ports of `node` come from, and the ports it reserves.
NodePortRange rangeOf(const ApiContext& ctx, const std::string& node) {
  NodePortRange fallback{node, kDefaultHostPortRange, {}};
  auto d = ctx.ledger.document(kRangeKind, node);
  if (!d) return fallback;
  auto r = portRangeFromDocument(d->body);
  return r ? *r : fallback;
}

bool unscopedAdmin(const Actor& actor) {
  return actor.role == ledger::Role::kAdmin && actor.tenants.empty();
}

Result<std::uint16_t> portField(const JsonBody& body, std::string_view field, bool required) {
  auto v = body.optInt(field, 1, 65535);
  if (!v) return v.status();
  if (!*v) {
    if (!required) return std::uint16_t{0};
    return Status::invalidArgument(std::string(field) + ": required (1-65535)");
  }
  return static_cast<std::uint16_t>(**v);
}

// What POST /v1/portmaps asks for, checked field by field.
struct PortMapCreate {
  PortMap map;  // id, host ports (when automatic), instance and creation fields still unset
  std::uint16_t host_port = 0;
  std::uint16_t host_port_end = 0;
  std::uint32_t count = 1;  // the run's size
};

Status readHostSide(const JsonBody& body, PortMapCreate& c) {
  auto host = portField(body, "host_port", false);
  if (!host) return host.status();
  auto host_end = portField(body, "host_port_end", false);
  if (!host_end) return host_end.status();
  auto count = body.optInt("count", 1, kMaxPortRun);
  if (!count) return count.status();
  c.host_port = *host;
  c.host_port_end = *host_end;
  if (c.host_port_end != 0 && c.host_port == 0) {
    return Status::invalidArgument("host_port_end: needs host_port");
  }
  if (c.host_port != 0 && count->has_value()) {
    return Status::invalidArgument("count: only with an automatic host port (no host_port)");
  }
  if (c.host_port != 0) {
    if (c.host_port_end == 0) c.host_port_end = c.host_port;
    if (c.host_port_end < c.host_port) {
      return Status::invalidArgument("host_port_end: must be at least host_port");
    }
    c.count = std::uint32_t{c.host_port_end} - c.host_port + 1;
    if (c.count > kMaxPortRun) {
      return Status::invalidArgument("host_port_end: at most " + std::to_string(kMaxPortRun) +
                                     " ports in one mapping");
    }
  } else {
    c.count = static_cast<std::uint32_t>(count->value_or(1));
  }
  return Status::ok();
}

// A host address a node can own: unicast, not loopback or unspecified.
bool hostUnicast(const addr::IpAddress& ip) {
  if (ip.isV4()) {
    const std::uint32_t v = ip.v4().value();
    return v != 0 && (v >> 24) != 127 && (v >> 28) != 0xe && v != 0xffffffffu;
  }
  const addr::uint128 bits = ip.bits();
  return bits != 0 && bits != 1 && (bits >> 120) != 0xff;
}

Status readFamily(const JsonBody& body, PortMap& m) {
  auto family = body.optString("family", 8);
  if (!family) return family.status();
  auto host = body.optIp("host_address");
  if (!host) return host.status();
  if (*family && **family != "ipv4" && **family != "ipv6") {
    return Status::invalidArgument("family: must be ipv4 or ipv6 (got \"" + **family + "\")");
  }
  m.host_address = *host;
  if (m.host_address && !hostUnicast(*m.host_address)) {
    return Status::invalidArgument("host_address: " + m.host_address->toString() +
                                   " is not a unicast address a node can own (leave it out for "
                                   "every address of the node)");
  }
  if (m.host_address) {
    m.family = m.host_address->family();
    const bool v6 = m.family == addr::IpFamily::kV6;
    if (*family && (**family == "ipv6") != v6) {
      return Status::invalidArgument("family: " + **family + " does not match host_address " +
                                     m.host_address->toString());
    }
  } else {
    m.family = *family && **family == "ipv6" ? addr::IpFamily::kV6 : addr::IpFamily::kV4;
  }
  return Status::ok();
}

Result<PortMapCreate> parsePortMapCreate(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"binding_id", "node", "host_address", "family", "protocol",
                                     "host_port", "host_port_end", "count", "port"}));
  PortMapCreate c;
  auto binding = body.optInt("binding_id", 1, INT64_MAX);
  if (!binding) return binding.status();
  if (!*binding) return Status::invalidArgument("binding_id: required");
  c.map.binding_id = static_cast<std::uint64_t>(**binding);
  auto node = body.optString("node", 253);
  if (!node) return node.status();
  c.map.node = node->value_or("");
  auto protocol = body.optString("protocol", 16);
  if (!protocol) return protocol.status();
  auto p = parseProtocol(protocol->value_or("tcp"));
  if (!p) return p.status();
  c.map.protocol = *p;
  NL_RETURN_IF_ERROR(readFamily(body, c.map));
  NL_RETURN_IF_ERROR(readHostSide(body, c));
  auto port = portField(body, "port", true);
  if (!port) return port.status();
  c.map.port = *port;
  if (std::uint32_t{c.map.port} + c.count - 1 > 65535) {
    return Status::invalidArgument("port: the run of " + std::to_string(c.count) + " ports from " +
                                   std::to_string(c.map.port) + " passes 65535");
  }
  return c;
}

// The binding the mapping forwards to: visible to the actor, holding an address of the family;
// fills the node from it when not given. Only an admin of every tenant may map ports on another
// node than the binding's host, or privileged ports (< 1024): a node's own services must not be
// taken over by a tenant's operator.
Status checkBinding(ApiContext& ctx, const Actor& actor, PortMapCreate& c) {
  const std::string id = std::to_string(c.map.binding_id);
  auto b = liveBinding(ctx, actor, c.map.binding_id);
  if (!b) return Status::invalidArgument("binding_id: binding " + id + " not found");
  if (!addressOf(*b, c.map.family)) {
    return Status::invalidArgument("binding_id: binding " + id + " has no " +
                                   std::string(addr::familyName(c.map.family)) + " address");
  }
  if (c.map.node.empty()) c.map.node = b->host;
  if (c.map.node.empty()) {
    return Status::invalidArgument("node: required (binding " + id + " has no host)");
  }
  if (c.map.node != b->host && !unscopedAdmin(actor)) {
    return Status::forbidden("node: only an admin without tenant scope may map ports of \"" +
                             c.map.node + "\" to binding " + id + " on \"" + b->host + "\"");
  }
  if (c.host_port != 0 && c.host_port < 1024 && !unscopedAdmin(actor)) {
    return Status::forbidden(
        "host_port: ports below 1024 are the node's; only an admin without "
        "tenant scope may map them");
  }
  c.map.instance = b->instance;
  c.map.tenant = b->tenant;
  return Status::ok();
}

// A host address is one of the node's own: unicast, and no binding's (a mapping on another
// station's address would capture traffic the node only routes).
Status checkHostAddress(ApiContext& ctx, const PortMap& m) {
  if (!m.host_address) return Status::ok();
  const std::string text = m.host_address->toString();
  if (auto holder = ctx.ledger.holderOfAddress(Actor::system("portmaps"), *m.host_address)) {
    return Status::invalidArgument("host_address: " + text +
                                   " is a binding's address, not the node's");
  }
  return Status::ok();
}

// Who holds a host port, as `actor` may be told: another tenant's mapping is not named.
std::string holderText(const PortMap& holder, const Actor& actor) {
  if (holder.id == kReservedHolder) return describeHostSide(holder) + " is reserved by the node";
  std::string text = describeHostSide(holder) + " is held";
  if (!actor.tenants.empty() && !actor.mayAccessTenant(holder.tenant)) return text;
  return text + " by portmap " + holder.id + " (binding " + std::to_string(holder.binding_id) +
         ", " + holder.instance + ")";
}

// Under the ledger's lock: the host ports, checked against (or found among) every mapping and
// the node's reserved ports.
Result<ledger::Ledger::DocumentDraft> draftPortMap(
    const PortMapCreate& c, const NodePortRange& node, const Actor& actor,
    const std::vector<ledger::DocumentRecord>& docs) {
  std::vector<PortMap> existing = storedMaps(docs);
  PortMap m = c.map;
  for (PortMap& r : reservedHolders(m, node.reserved)) existing.push_back(std::move(r));
  if (c.host_port != 0) {
    m.host_ports = {c.host_port, c.host_port_end};
    if (const PortMap* holder = firstCollision(m, existing)) {
      return Status::conflict("host_port: " + holderText(*holder, actor));
    }
  } else {
    auto run = findFreeRun(node.range, c.count, m, existing);
    if (!run) {
      return Status::conflict("host_port: no free run of " + std::to_string(c.count) +
                              " port(s) in " + m.node + "'s range " + portRunText(node.range));
    }
    m.host_ports = *run;
  }
  ledger::DocumentRecord doc{kMapKind, m.id, json::serialize(toJson(m))};
  return ledger::Ledger::DocumentDraft{std::move(doc), "portmap.create", "portmap:" + m.id, {}};
}

void handleCreatePortMap(ApiContext& ctx, http::Request& req, http::Responder res,
                         const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto create = parsePortMapCreate(*body);
  if (!create) return respondError(res, create.status());
  if (Status s = checkBinding(ctx, actor, *create); !s.isOk()) return respondError(res, s);
  if (Status s = checkHostAddress(ctx, create->map); !s.isOk()) return respondError(res, s);
  std::vector<std::uint8_t> raw(6);
  secureRandomBytes(raw);
  create->map.id = "pm-" + toHex(raw);
  create->map.created_by = actor.name;
  create->map.created_at = ledger::formatTime(ctx.engine->now());
  const NodePortRange node = rangeOf(ctx, create->map.node);
  auto applied = ctx.ledger.putDocumentChecked(
      actor, kMapKind, [&](const std::vector<ledger::DocumentRecord>& docs) {
        return draftPortMap(*create, node, actor, docs);
      });
  if (!applied) return respondError(res, applied.status());
  auto stored = portMapFromDocument(applied->value.body);
  if (!stored) return respondError(res, stored.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(201, json::serialize(shownMap(ctx, actor, *stored))));
}

// The mapping `id` if the actor may see its binding (a tenant's mappings are its bindings').
Result<PortMap> visibleMap(ApiContext& ctx, const Actor& actor, const std::string& id) {
  auto d = ctx.ledger.document(kMapKind, id);
  Status absent = Status::notFound("portmap \"" + id + "\" not found");
  if (!d) return absent;
  auto m = portMapFromDocument(d->body);
  if (!m) return m.status();
  if (!actor.tenants.empty() && !actor.mayAccessTenant(m->tenant)) return absent;
  return m;
}

void handleListPortMaps(ApiContext& ctx, http::Request& req, http::Responder res,
                        const Actor& actor) {
  auto node = req.queryParam("node");
  std::optional<std::uint64_t> binding;
  if (auto v = req.queryParam("binding_id")) {
    auto id = parseId("binding_id", *v);
    if (!id) return respondError(res, id.status());
    binding = *id;
  }
  json::array items;
  for (const PortMap& m : storedMaps(ctx.ledger.documents(kMapKind))) {
    if (node && m.node != *node) continue;
    if (binding && m.binding_id != *binding) continue;
    if (!actor.tenants.empty() && !actor.mayAccessTenant(m.tenant)) continue;
    items.emplace_back(shownMap(ctx, actor, m));
  }
  respondJson(res, 200, json::object{{"items", std::move(items)}});
}

void handleGetPortMap(ApiContext& ctx, http::Request& req, http::Responder res,
                      const Actor& actor) {
  auto m = visibleMap(ctx, actor, std::string(req.param("id")));
  if (!m) return respondError(res, m.status());
  respondJson(res, 200, shownMap(ctx, actor, *m));
}

void handleDeletePortMap(ApiContext& ctx, http::Request& req, http::Responder res,
                         const Actor& actor) {
  const std::string id(req.param("id"));
  auto m = visibleMap(ctx, actor, id);
  if (!m) return respondError(res, m.status());
  auto applied = ctx.ledger.deleteDocument(actor, kMapKind, id, "portmap.delete", "portmap:" + id);
  if (!applied) return respondError(res, applied.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res), http::Response::noContent());
}

// ---- /v1/portranges ---------------------------------------------------------------------------

void handleListRanges(ApiContext& ctx, http::Request&, http::Responder res, const Actor&) {
  json::array items;
  for (const auto& d : ctx.ledger.documents(kRangeKind)) {
    if (auto r = portRangeFromDocument(d.body)) items.emplace_back(toJson(*r));
  }
  json::object fallback{{"first", kDefaultHostPortRange.first},
                        {"last", kDefaultHostPortRange.last}};
  respondJson(res, 200, json::object{{"items", std::move(items)}, {"default", fallback}});
}

Result<ledger::Ledger::DocumentDraft> draftRange(const NodePortRange& r,
                                                 const std::vector<ledger::DocumentRecord>& docs) {
  for (const auto& d : docs) {
    auto other = portRangeFromDocument(d.body);
    if (!other || other->node == r.node || !other->range.overlaps(r.range)) continue;
    return Status::conflict("first: " + std::to_string(r.range.first) + "-" +
                            std::to_string(r.range.last) + " overlaps node " + other->node +
                            "'s range " + std::to_string(other->range.first) + "-" +
                            std::to_string(other->range.last));
  }
  ledger::DocumentRecord doc{kRangeKind, r.node, json::serialize(toJson(r))};
  return ledger::Ledger::DocumentDraft{std::move(doc), "portrange.set", "portrange:" + r.node, {}};
}

Result<NodePortRange> parseRangeSet(const JsonBody& body, std::string node) {
  NL_RETURN_IF_ERROR(body.allowOnly({"first", "last", "reserved"}));
  auto first = portField(body, "first", true);
  if (!first) return first.status();
  auto last = portField(body, "last", true);
  if (!last) return last.status();
  if (*last < *first) return Status::invalidArgument("last: must be at least first");
  NodePortRange r{std::move(node), {*first, *last}, {}};
  auto reserved = body.stringArray("reserved", 256);
  if (!reserved) return reserved.status();
  for (const std::string& text : *reserved) {
    auto run = parsePortRun(text);
    if (!run) {
      return Status::invalidArgument("reserved: \"" + text.substr(0, 32) +
                                     "\" is not a port (1-65535) or a run FIRST-LAST");
    }
    r.reserved.push_back(*run);
  }
  return r;
}

void handleSetRange(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto r = parseRangeSet(*body, std::string(req.param("node")));
  if (!r) return respondError(res, r.status());
  auto applied = ctx.ledger.putDocumentChecked(
      actor, kRangeKind, [&](const auto& docs) { return draftRange(*r, docs); });
  if (!applied) return respondError(res, applied.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(200, json::serialize(toJson(*r))));
}

void handleDeleteRange(ApiContext& ctx, http::Request& req, http::Responder res,
                       const Actor& actor) {
  const std::string node(req.param("node"));
  auto applied =
      ctx.ledger.deleteDocument(actor, kRangeKind, node, "portrange.delete", "portrange:" + node);
  if (!applied) {
    return respondError(res, applied.status().code() == StatusCode::kNotFound
                                 ? Status::notFound("node \"" + node + "\" has no range of its own")
                                 : applied.status());
  }
  respondWhenDurable(ctx, applied->ticket, std::move(res), http::Response::noContent());
}

}  // namespace

std::size_t reapPortMaps(ApiContext& ctx) {
  const Actor reaper = Actor::system("portmaps");
  std::size_t reaped = 0;
  for (const PortMap& m : storedMaps(ctx.ledger.documents(kMapKind))) {
    if (liveBinding(ctx, reaper, m.binding_id)) continue;
    if (ctx.ledger.deleteDocument(reaper, kMapKind, m.id, "portmap.delete", "portmap:" + m.id)) {
      ++reaped;
    }
  }
  return reaped;
}

Status registerPortMapRoutes(http::Router& router, ApiContext& ctx) {
  auto op = [](std::string action) {
    return needsRole(ledger::Role::kOperator, std::move(action));
  };
  auto admin = [](std::string action) {
    return needsRole(ledger::Role::kAdmin, std::move(action));
  };
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/portmaps",
                                withAuth(ctx, handleCreatePortMap, op("create port mappings"))));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/portmaps", withAuth(ctx, handleListPortMaps)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/portmaps/{id}", withAuth(ctx, handleGetPortMap)));
  NL_RETURN_IF_ERROR(router.add("DELETE", "/v1/portmaps/{id}",
                                withAuth(ctx, handleDeletePortMap, op("delete port mappings"))));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/portranges", withAuth(ctx, handleListRanges)));
  NL_RETURN_IF_ERROR(router.add("PUT", "/v1/portranges/{node}",
                                withAuth(ctx, handleSetRange, admin("set port ranges"))));
  return router.add("DELETE", "/v1/portranges/{node}",
                    withAuth(ctx, handleDeleteRange, admin("delete port ranges")));
}

}  // namespace netledger::server
