// /v1/bindings, /v1/addresses, /v1/macs, /v1/hosts: allocation and the life of a binding,
// including probe before use (an allocation that waits for the host agent's probe, and the
// agent's reports at /v1/bindings/{id}/probe; the progress lives in ProbeCoordinator).
#include <cctype>
#include <chrono>
#include <memory>

#include <boost/json.hpp>

#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"
#include "server/probe/probe_coordinator.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

constexpr std::int64_t kDefaultProbeTimeoutS = 30;

struct AllocateCall {
  ledger::AllocateRequest request;
  std::chrono::seconds probe_timeout{kDefaultProbeTimeoutS};
};

Result<AllocateCall> parseAllocate(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"instance", "interface", "pools", "pool", "address", "mac",
                                     "mac_pool", "host", "host_mac", "service", "labels", "ttl_s",
                                     "static", "probe", "probe_timeout_s"}));
  AllocateCall call;
  ledger::AllocateRequest& r = call.request;
  auto instance = body.string("instance", 253);
  if (!instance) return instance.status();
  r.instance = *instance;
  if (auto v = body.optString("interface", 64); !v)
    return v.status();
  else if (*v)
    r.interface = **v;
  auto pools = body.stringArray("pools", 16);
  if (!pools) return pools.status();
  r.pools = *pools;
  if (auto v = body.optString("pool", 63); !v) {
    return v.status();
  } else if (*v) {
    if (!r.pools.empty()) return Status::invalidArgument("pool: give pool or pools, not both");
    r.pools.push_back(**v);
  }
  auto address = body.optIp("address");
  if (!address) return address.status();
  r.address = *address;
  auto mac = body.optMac("mac");
  if (!mac) return mac.status();
  r.mac = *mac;
  if (auto v = body.optString("mac_pool", 63); !v)
    return v.status();
  else if (*v)
    r.mac_pool = **v;
  if (auto v = body.optString("host", 253); !v)
    return v.status();
  else if (*v)
    r.host = **v;
  auto host_mac = body.optMac("host_mac");
  if (!host_mac) return host_mac.status();
  r.host_mac = *host_mac;
  if (auto v = body.optString("service", 253); !v)
    return v.status();
  else if (*v)
    r.service = **v;
  auto labels = body.stringMap("labels");
  if (!labels) return labels.status();
  for (auto& [k, v] : *labels) r.labels[k] = v;
  auto ttl = body.optInt("ttl_s", 0, 3650LL * 86400);
  if (!ttl) return ttl.status();
  r.ttl_s = *ttl;
  if (auto v = body.optBool("static"); !v)
    return v.status();
  else
    r.is_static = v->value_or(false);
  if (auto v = body.optBool("probe"); !v)
    return v.status();
  else
    r.probe = v->value_or(false);
  auto timeout = body.optInt("probe_timeout_s", 1, 120);
  if (!timeout) return timeout.status();
  if (*timeout) {
    // Refused rather than ignored: a client that sets it believes it is probing.
    if (!r.probe) return Status::invalidArgument("probe_timeout_s: only with \"probe\": true");
    call.probe_timeout = std::chrono::seconds(**timeout);
  }
  return call;
}

std::string bindingBody(const ledger::BindingRecord& b) { return json::serialize(bindingJson(b)); }

// The answer to an allocation: the binding (already serialized, as bindingBody or the audit
// JSON) plus `address_networks`, each address with its pool's prefix and gateway, so a client
// configures the addresses without reading the pools (netledger-cni's IPAM result).
std::string allocationBody(const ApiContext& ctx, std::string binding_json,
                           const ledger::BindingRecord& b) {
  if (binding_json.empty() || binding_json.back() != '}') return binding_json;
  json::array networks;
  for (const auto& n : ctx.ledger.addressNetworks(b)) {
    auto text = [](const auto& v) { return v ? json::value(v->toString()) : json::value(nullptr); };
    networks.emplace_back(
        json::object{{"ip", n.ip.toString()},
                     {"pool", n.pool.empty() ? json::value(nullptr) : json::value(n.pool)},
                     {"prefix", text(n.prefix)},
                     {"gateway", text(n.gateway)}});
  }
  binding_json.pop_back();
  binding_json += ",\"address_networks\":";
  binding_json += json::serialize(networks);
  binding_json += '}';
  return binding_json;
}

// Runs a binding-returning ledger command and answers 200 once durable.
template <typename Fn>
void answerBinding(ApiContext& ctx, http::Responder res, Fn&& command) {
  auto applied = command();
  if (!applied) return respondError(res, applied.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(200, bindingBody(applied->value)));
}

Result<ledger::BindingFilter> parseFilter(const http::Request& req) {
  ledger::BindingFilter f;
  if (auto v = req.queryParam("ip")) {
    auto ip = addr::IpAddress::parse(*v);
    if (!ip) return ip.status().withContext("ip");
    f.ip = *ip;
  }
  if (auto v = req.queryParam("mac")) {
    auto m = addr::Mac::parse(*v);
    if (!m) return m.status().withContext("mac");
    f.mac = *m;
  }
  if (auto v = req.queryParam("instance")) f.instance = std::string(*v);
  if (auto v = req.queryParam("host")) f.host = std::string(*v);
  if (auto v = req.queryParam("pool")) f.pool = std::string(*v);
  if (auto v = req.queryParam("state")) {
    auto s = ledger::parseBindingState(*v);
    if (!s) return s.status();
    f.state = *s;
  }
  if (auto v = req.queryParam("q")) {
    if (v->size() > 253) return Status::invalidArgument("q: longer than 253 characters");
    std::string text(*v);
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    f.text = std::move(text);
  }
  for (const auto& [k, v] : req.query) {
    if (k != "ip" && k != "mac" && k != "instance" && k != "host" && k != "pool" && k != "state" &&
        k != "q" && k != "limit" && k != "cursor") {
      return Status::invalidArgument(k.substr(0, 40) +
                                     ": unknown query parameter (known: ip, mac, "
                                     "instance, host, pool, state, q, limit, cursor)");
    }
  }
  return f;
}

std::string locationOf(std::uint64_t id) { return "/v1/bindings/" + std::to_string(id); }

// The answer to a probed allocation, once its probe's outcome is known (see ProbeCoordinator).
http::Response probeOutcomeResponse(const ApiContext& ctx, const ProbeOutcome& o) {
  auto withLocation = [&](http::Response r) {
    r.headers.set("Location", locationOf(o.binding_id));
    return r;
  };
  switch (o.kind) {
    case ProbeOutcomeKind::kActivated:
      return withLocation(
          http::Response::json(201, allocationBody(ctx, bindingBody(*o.binding), *o.binding)));
    case ProbeOutcomeKind::kExhausted: {
      json::array answered;
      for (const auto& a : o.in_use) {
        answered.emplace_back(
            json::object{{"address", a.ip.toString()}, {"mac", a.mac.toString()}});
      }
      return http::problemFromStatus(o.error,
                                     json::object{{"binding_id", std::to_string(o.binding_id)},
                                                  {"in_use", std::move(answered)}});
    }
    case ProbeOutcomeKind::kTimedOut:
    case ProbeOutcomeKind::kShutdown:
      break;
  }
  if (!o.binding) {
    return http::problemFromStatus(Status::conflict("binding " + std::to_string(o.binding_id) +
                                                    " was released before its probe finished"));
  }
  // Still reserved: accepted, not finished; the client polls the Location.
  const bool active = o.binding->state == ledger::BindingState::kActive;
  return withLocation(http::Response::json(
      active ? 201 : 202, allocationBody(ctx, bindingBody(*o.binding), *o.binding)));
}

void allocateWithProbe(ApiContext& ctx, const Actor& actor, const AllocateCall& call,
                       http::Responder res) {
  if (ctx.probes == nullptr) {
    return respondError(res, Status::unavailable("probe: not available on this server"));
  }
  // The waiter owns the Responder from here on (it is called exactly once, maybe right away).
  auto responder = std::make_shared<http::Responder>(std::move(res));
  auto applied = ctx.probes->allocate(
      actor, call.request, call.probe_timeout, [&ctx, responder](ProbeOutcome outcome) {
        respondWhenDurable(ctx, outcome.ticket, std::move(*responder),
                           probeOutcomeResponse(ctx, outcome));
      });
  if (!applied) return respondError(*responder, applied.status());
  if (applied->created) return;  // the waiter answers
  auto response =
      http::Response::json(200, allocationBody(ctx, bindingBody(applied->value), applied->value));
  response.headers.set("Location", locationOf(applied->value.id));
  respondWhenDurable(ctx, applied->ticket, std::move(*responder), std::move(response));
}

Result<ProbeReport> parseProbeReport(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"address", "result", "mac", "interface"}));
  ProbeReport r;
  auto address = body.optIp("address");
  if (!address) return address.status();
  if (!*address) return Status::invalidArgument("address: required");
  r.address = **address;
  auto result = body.string("result", 16);
  if (!result) return result.status();
  if (*result != "free" && *result != "in_use") {
    return Status::invalidArgument("result: must be \"free\" or \"in_use\" (got \"" + *result +
                                   "\")");
  }
  r.in_use = *result == "in_use";
  auto mac = body.optMac("mac");
  if (!mac) return mac.status();
  r.mac = *mac;
  if (r.in_use && !r.mac) return Status::invalidArgument("mac: required when result is in_use");
  if (auto v = body.optString("interface", 64); !v)
    return v.status();
  else if (*v)
    r.interface = **v;
  return r;
}

// PATCH /v1/bindings/{id}: facts learnt after allocation (the CNI chained plugin's pod MAC
// and node). A MAC must be a unicast station address, as the wire will show it (optMac).
Result<ledger::BindingUpdate> parseUpdate(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"mac", "host", "host_mac"}));
  for (std::string_view field : {"mac", "host", "host_mac"}) {
    // These facts are set, never cleared: null would silently mean "leave as is" here.
    if (body.isNull(field)) {
      return Status::invalidArgument(std::string(field) +
                                     ": must not be null (it can be changed, "
                                     "not cleared)");
    }
  }
  ledger::BindingUpdate u;
  if (auto v = body.optString("host", 253); !v)
    return v.status();
  else if (*v)
    u.host = **v;
  auto mac = body.optMac("mac");
  if (!mac) return mac.status();
  u.mac = *mac;
  auto host_mac = body.optMac("host_mac");
  if (!host_mac) return host_mac.status();
  u.host_mac = *host_mac;
  if (!u.mac && !u.host && !u.host_mac) {
    return Status::invalidArgument("body: give at least one of mac, host, host_mac");
  }
  return u;
}

void handleAllocate(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto call = parseAllocate(*body);
  if (!call) return respondError(res, call.status());
  if (call->request.probe) return allocateWithProbe(ctx, actor, *call, std::move(res));
  auto applied = ctx.ledger.allocate(actor, call->request);
  if (!applied) return respondError(res, applied.status());
  std::string binding = applied->json.empty()
                            ? bindingBody(applied->value)
                            : withMacVendor(std::move(applied->json), applied->value.mac);
  auto response = http::Response::json(applied->created ? 201 : 200,
                                       allocationBody(ctx, std::move(binding), applied->value));
  response.headers.set("Location", locationOf(applied->value.id));
  respondWhenDurable(ctx, applied->ticket, std::move(res), std::move(response));
}

// The agent's probe report; the coordinator decides who may report (one check, its own).
void handleProbeReport(ApiContext& ctx, http::Request& req, http::Responder res,
                       const Actor& actor) {
  auto id = parseId("id", req.param("id"));
  if (!id) return respondError(res, id.status());
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto report = parseProbeReport(*body);
  if (!report) return respondError(res, report.status());
  if (ctx.probes == nullptr) {
    return respondError(res, Status::unavailable("probe: not available on this server"));
  }
  answerBinding(ctx, std::move(res), [&] { return ctx.probes->report(actor, *id, *report); });
}

void handleSearch(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto filter = parseFilter(req);
  if (!filter) return respondError(res, filter.status());
  auto limit = parseLimit(req, 100, 1000);
  if (!limit) return respondError(res, limit.status());
  auto page = ctx.ledger.searchBindings(actor, *filter,
                                        std::string(req.queryParam("cursor").value_or("")), *limit);
  if (!page) return respondError(res, page.status());
  json::array items;
  for (const auto& b : page->items) items.emplace_back(bindingJson(b));
  json::object o{{"items", std::move(items)}};
  o["next_cursor"] =
      page->next_cursor.empty() ? json::value(nullptr) : json::value(page->next_cursor);
  respondJson(res, 200, o);
}

void handleGetBinding(ApiContext& ctx, http::Request& req, http::Responder res,
                      const Actor& actor) {
  auto id = parseId("id", req.param("id"));
  if (!id) return respondError(res, id.status());
  auto b = ctx.ledger.getBinding(actor, *id);
  if (!b) return respondError(res, b.status());
  respondJson(res, 200, bindingJson(*b));
}

void handleRelease(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto id = parseId("id", req.param("id"));
  if (!id) return respondError(res, id.status());
  answerBinding(ctx, std::move(res), [&] { return ctx.ledger.release(actor, *id); });
}

void handleRenew(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto id = parseId("id", req.param("id"));
  if (!id) return respondError(res, id.status());
  std::optional<std::int64_t> ttl;
  if (!req.body.empty()) {
    auto body = JsonBody::parse(req.body);
    if (!body) return respondError(res, body.status());
    if (Status s = body->allowOnly({"ttl_s"}); !s.isOk()) return respondError(res, s);
    auto t = body->optInt("ttl_s", 0, 3650LL * 86400);
    if (!t) return respondError(res, t.status());
    ttl = *t;
  }
  answerBinding(ctx, std::move(res), [&] { return ctx.ledger.renew(actor, *id, ttl); });
}

void handleRenewHost(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  std::string host(req.param("host"));
  auto applied = ctx.ledger.renewHost(actor, host);
  if (!applied) return respondError(res, applied.status());
  json::object o{{"host", host}, {"renewed", applied->value}};
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(200, json::serialize(o)));
}

void handleMigrate(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto id = parseId("id", req.param("id"));
  if (!id) return respondError(res, id.status());
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  if (Status s = body->allowOnly({"host", "host_mac"}); !s.isOk()) return respondError(res, s);
  auto host = body->string("host", 253);
  if (!host) return respondError(res, host.status());
  auto host_mac = body->optMac("host_mac");
  if (!host_mac) return respondError(res, host_mac.status());
  answerBinding(ctx, std::move(res),
                [&] { return ctx.ledger.migrate(actor, *id, *host, *host_mac); });
}

void handleUpdate(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto id = parseId("id", req.param("id"));
  if (!id) return respondError(res, id.status());
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto update = parseUpdate(*body);
  if (!update) return respondError(res, update.status());
  answerBinding(ctx, std::move(res), [&] { return ctx.ledger.updateBinding(actor, *id, *update); });
}

void handleMoveAddress(ApiContext& ctx, http::Request& req, http::Responder res,
                       const Actor& actor) {
  auto ip = addr::IpAddress::parse(req.param("ip"));
  if (!ip) return respondError(res, ip.status().withContext("ip"));
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  if (Status s = body->allowOnly({"to"}); !s.isOk()) return respondError(res, s);
  auto to_text = body->string("to", 32);
  if (!to_text) return respondError(res, to_text.status());
  auto to = parseId("to", *to_text);
  if (!to) return respondError(res, to.status());
  answerBinding(ctx, std::move(res), [&] { return ctx.ledger.moveAddress(actor, *ip, *to); });
}

void handleAddressHolder(ApiContext& ctx, http::Request& req, http::Responder res,
                         const Actor& actor) {
  auto ip = addr::IpAddress::parse(req.param("ip"));
  if (!ip) return respondError(res, ip.status().withContext("ip"));
  auto b = ctx.ledger.holderOfAddress(actor, *ip);
  if (!b) return respondError(res, b.status());
  respondJson(res, 200, bindingJson(*b));
}

void handleMacHolder(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto mac = addr::Mac::parse(req.param("mac"));
  if (!mac) return respondError(res, mac.status().withContext("mac"));
  auto b = ctx.ledger.holderOfMac(actor, *mac);
  if (!b) return respondError(res, b.status());
  respondJson(res, 200, bindingJson(*b));
}

}  // namespace

// Roles and tenants are the ledger's binding commands' own rules (and the probe coordinator's).
Status registerBindingRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/bindings", withAuth(ctx, handleAllocate)));
  NL_RETURN_IF_ERROR(
      router.add("POST", "/v1/bindings/{id}/probe", withAuth(ctx, handleProbeReport)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/bindings", withAuth(ctx, handleSearch)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/bindings/{id}", withAuth(ctx, handleGetBinding)));
  NL_RETURN_IF_ERROR(router.add("DELETE", "/v1/bindings/{id}", withAuth(ctx, handleRelease)));
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/bindings/{id}/renew", withAuth(ctx, handleRenew)));
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/hosts/{host}/renew", withAuth(ctx, handleRenewHost)));
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/bindings/{id}/migrate", withAuth(ctx, handleMigrate)));
  NL_RETURN_IF_ERROR(router.add("PATCH", "/v1/bindings/{id}", withAuth(ctx, handleUpdate)));
  NL_RETURN_IF_ERROR(
      router.add("POST", "/v1/addresses/{ip}/move", withAuth(ctx, handleMoveAddress)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/addresses/{ip}", withAuth(ctx, handleAddressHolder)));
  return router.add("GET", "/v1/macs/{mac}", withAuth(ctx, handleMacHolder));
}

}  // namespace netledger::server
