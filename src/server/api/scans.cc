// /v1/scans: active scans of a pool, carried out by one node's agent. The state machine
// (pending -> done, the comparison with the ledger) is ScanService's (server/scans); this file
// parses, authorizes and answers:
//   POST /v1/scans              -> 201 "pending", with the address ranges to probe
//   POST /v1/scans/{id}/result  -> 200 "done", with unknown stations and silent bindings
//   GET  /v1/scans, /v1/scans/{id}
#include <boost/json.hpp>

#include "common/parse.h"
#include "server/api/common.h"
#include "server/api/json_input.h"
#include "server/scans/scan_service.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

Status checkVia(const std::string& via) {
  if (via.empty()) return Status::invalidArgument("via: required (the node whose agent scans)");
  return refuseControlCharacters("via", via);
}

Result<ScanRequest> parseRequest(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"pool", "via", "rate_per_s"}));
  ScanRequest r;
  auto pool = body.string("pool", 63);
  if (!pool) return pool.status();
  r.pool = *pool;
  auto via = body.string("via", 253);
  if (!via) return via.status();
  NL_RETURN_IF_ERROR(checkVia(*via));
  r.via = *via;
  auto rate = body.optInt("rate_per_s", 1, 10'000);
  if (!rate) return rate.status();
  r.rate_per_s = rate->value_or(100);
  return r;
}

// One element of "answered": {"ip", "mac"}, the MAC a unicast station's; errors name `where`.
Result<ScanAnswer> parseAnswer(const std::string& where, const json::value& item) {
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
  auto ip = addr::IpAddress::parse(ip_value->as_string());
  if (!ip) return ip.status().withContext(where + ".ip");
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
  return ScanAnswer{*ip, *mac};
}

// {"answered": [{"ip", "mac"}, ...], "probed": N}; whether each address is one of the scan's
// is the service's check.
Result<ScanReport> parseReport(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"answered", "probed"}));
  ScanReport r;
  auto probed = body.optInt("probed", 0, static_cast<std::int64_t>(kMaxScanAddresses));
  if (!probed) return probed.status();
  r.probed = *probed;
  const json::value* answered = body.value("answered");
  if (answered == nullptr || answered->is_null()) return r;
  if (!answered->is_array()) return badField("answered", "must be an array", *answered);
  if (answered->as_array().size() > kMaxScanAddresses) {
    return Status::invalidArgument("answered: at most " + std::to_string(kMaxScanAddresses) +
                                   " entries");
  }
  for (const auto& item : answered->as_array()) {
    auto answer = parseAnswer("answered[" + std::to_string(r.answered.size()) + "]", item);
    if (!answer) return answer.status();
    r.answered.push_back(*answer);
  }
  return r;
}

void handleRequest(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto request = parseRequest(*body);
  if (!request) return respondError(res, request.status());
  auto applied = ctx.scans->request(actor, *request);
  if (!applied) return respondError(res, applied.status());
  auto response = http::Response::json(201, std::move(applied->json));
  response.headers.set("Location", "/v1/scans/" + std::string(applied->value["id"].as_string()));
  respondWhenDurable(ctx, applied->ticket, std::move(res), std::move(response));
}

void handleResult(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  const std::string id(req.param("id"));
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto report = parseReport(*body);
  if (!report) return respondError(res, report.status());
  auto applied = ctx.scans->complete(actor, id, *report);
  if (!applied) return respondError(res, applied.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(200, std::move(applied->json)));
}

void handleListScans(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto limit = parseLimit(req, 100, 1000);
  if (!limit) return respondError(res, limit.status());
  json::array items;
  for (auto& scan : ctx.scans->list(actor, *limit)) items.emplace_back(std::move(scan));
  respondJson(res, 200, json::object{{"items", std::move(items)}});
}

void handleGetScan(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  auto scan = ctx.scans->get(actor, std::string(req.param("id")));
  if (!scan) return respondError(res, scan.status());
  respondJson(res, 200, *scan);
}

}  // namespace

Status registerScanRoutes(http::Router& router, ApiContext& ctx) {
  using ledger::Role;
  NL_RETURN_IF_ERROR(
      router.add("POST", "/v1/scans",
                 withAuth(ctx, handleRequest, needsRole(Role::kOperator, "request scans"))));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/scans", withAuth(ctx, handleListScans)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/scans/{id}", withAuth(ctx, handleGetScan)));
  return router.add("POST", "/v1/scans/{id}/result",
                    withAuth(ctx, handleResult, needsRole(Role::kOperator, "report scan results")));
}

}  // namespace netledger::server
