// /v1/webhooks: subscriptions to ledger events (admin only), their delivery log, and the
// adapter that turns committed ledger events into signed webhook deliveries.
#include <array>

#include <boost/json.hpp>

#include "common/crypto.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"
#include "webhooks/dispatcher.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

constexpr const char* kWebhookDoc = "webhook";

Status requireAdmin(const Actor& actor, std::string_view what) {
  if (actor.role == ledger::Role::kAdmin) return Status::ok();
  return Status(StatusCode::kForbidden,
                "token \"" + actor.name + "\" may not " + std::string(what) + ": needs role admin");
}

std::string randomHex(std::size_t bytes) {
  std::vector<std::uint8_t> raw(bytes);
  secureRandomBytes(raw);
  return toHex(raw);
}

json::object publicView(const json::object& stored) {
  json::object o = stored;
  o.erase("secret");
  return o;
}

Result<webhooks::Subscription> subscriptionOf(const json::object& o) {
  webhooks::Subscription s;
  auto str = [&](const char* k) {
    const json::value* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  s.id = str("id");
  s.url = str("url");
  s.secret = str("secret");
  if (const json::value* events = o.if_contains("events"); events && events->is_array()) {
    for (const auto& e : events->get_array()) {
      if (e.is_string()) s.events.emplace_back(e.get_string());
    }
  }
  if (const json::value* a = o.if_contains("active"); a && a->is_bool()) s.active = a->get_bool();
  if (s.id.empty() || s.url.empty()) return Status::internal("webhook document without id/url");
  return s;
}

json::object deliveryJson(const webhooks::Delivery& d) {
  json::object o;
  o["id"] = d.id;
  o["webhook_id"] = d.webhook_id;
  o["event_type"] = d.event_type;
  o["event_id"] = d.event_id;
  o["attempt"] = d.attempt;
  o["time"] = ledger::formatTime(d.time_ms);
  if (d.status != 0) o["status"] = d.status;
  if (!d.error.empty()) o["error"] = d.error;
  o["duration_ms"] = d.duration_ms;
  o["outcome"] = d.outcome;
  return o;
}

}  // namespace

Status loadWebhooks(ApiContext& ctx) {
  for (const auto& d : ctx.ledger.documents(kWebhookDoc)) {
    json::error_code ec;
    auto v = json::parse(d.body, ec);
    if (ec || !v.is_object()) return Status::internal("webhook " + d.key + ": stored body is bad");
    auto s = subscriptionOf(v.get_object());
    if (!s) return s.status();
    ctx.webhooks->upsert(std::move(*s));
  }
  return Status::ok();
}

void publishToWebhooks(ApiContext& ctx, std::span<const ledger::EventRecord* const> events) {
  if (ctx.webhooks == nullptr) return;
  for (const ledger::EventRecord* e : events) {
    const bool utilization = e->op == "conflict.opened" &&
                             e->after.find("\"kind\":\"pool_utilization\"") != std::string::npos;
    // Bodies nobody would receive are not even built (this runs on the commit thread).
    if (!ctx.webhooks->wants(e->op) && !(utilization && ctx.webhooks->wants("pool.utilization"))) {
      continue;
    }
    json::object body;
    body["id"] = std::to_string(e->seq);
    body["type"] = e->op;
    body["time"] = ledger::formatTime(e->time);
    body["actor"] = e->actor;
    body["subject"] = e->subject;
    json::error_code ec;
    json::value data = json::parse(e->after.empty() ? e->before : e->after, ec);
    if (ec) data = nullptr;
    // A conflict kind whose policy is "none" is recorded but tells no one.
    if (e->op.rfind("conflict.", 0) == 0 && data.is_object()) {
      const json::value* r = data.get_object().if_contains("remediation");
      const json::value* policy =
          r && r->is_object() ? r->get_object().if_contains("policy") : nullptr;
      if (policy && policy->is_string() && policy->get_string() == "none") continue;
    }
    body["data"] = std::move(data);
    ctx.webhooks->publish(e->op, body["id"].get_string().c_str(), json::serialize(body));
    if (utilization) {
      body["type"] = "pool.utilization";
      ctx.webhooks->publish("pool.utilization", std::to_string(e->seq), json::serialize(body));
    }
  }
}

Status registerWebhookRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(router.add(
      "POST", "/v1/webhooks",
      withAuth(ctx, [&ctx](http::Request& req, http::Responder res, const Actor& actor) {
        if (Status s = requireAdmin(actor, "create webhooks"); !s.isOk()) {
          return respondError(res, s);
        }
        auto body = JsonBody::parse(req.body);
        if (!body) return respondError(res, body.status());
        if (Status s = body->allowOnly({"url", "events", "secret"}); !s.isOk()) {
          return respondError(res, s);
        }
        auto url = body->string("url", 4096);
        if (!url) return respondError(res, url.status());
        if (Status s = webhooks::validateUrl(*url); !s.isOk()) {
          return respondError(res, s);
        }
        auto events = body->stringArray("events", 32);
        if (!events) return respondError(res, events.status());
        if (events->empty()) {
          return respondError(res, Status::invalidArgument(
                                       "events: give at least one filter (e.g. conflict.opened)"));
        }
        for (const auto& f : *events) {
          if (Status s = webhooks::validateFilter(f); !s.isOk()) {
            return respondError(res, s);
          }
        }
        auto secret = body->optString("secret", 256);
        if (!secret) return respondError(res, secret.status());
        std::string key = secret->value_or(randomHex(32));
        if (key.size() < 16) {
          return respondError(res, Status::invalidArgument("secret: at least 16 characters"));
        }
        json::object o;
        o["id"] = "wh-" + randomHex(6);
        o["url"] = *url;
        json::array filters;
        for (const auto& f : *events) filters.emplace_back(f);
        o["events"] = std::move(filters);
        o["secret"] = key;
        o["active"] = true;
        o["created_by"] = actor.name;
        o["created_at"] = ledger::formatTime(ctx.engine->now());
        std::string id(o["id"].get_string());
        ledger::DocumentRecord doc{kWebhookDoc, id, json::serialize(o)};
        // The audit event (and so the event stream) must not carry the secret.
        auto applied = ctx.ledger.putDocument(actor, std::move(doc), "webhook.create",
                                              "webhook:" + id, {}, json::serialize(publicView(o)));
        if (!applied) return respondError(res, applied.status());
        auto sub = subscriptionOf(o);
        ctx.webhooks->upsert(std::move(*sub));
        respondWhenDurable(ctx, applied->ticket, std::move(res),
                           http::Response::json(201, json::serialize(o)));
      })));
  NL_RETURN_IF_ERROR(
      router.add("GET", "/v1/webhooks",
                 withAuth(ctx, [&ctx](http::Request&, http::Responder res, const Actor& actor) {
                   if (Status s = requireAdmin(actor, "list webhooks"); !s.isOk()) {
                     return respondError(res, s);
                   }
                   json::array items;
                   for (const auto& d : ctx.ledger.documents(kWebhookDoc)) {
                     json::error_code ec;
                     auto v = json::parse(d.body, ec);
                     if (!ec && v.is_object()) items.emplace_back(publicView(v.get_object()));
                   }
                   respondJson(res, 200, json::object{{"items", std::move(items)}});
                 })));
  NL_RETURN_IF_ERROR(router.add(
      "GET", "/v1/webhooks/{id}",
      withAuth(ctx, [&ctx](http::Request& req, http::Responder res, const Actor& actor) {
        if (Status s = requireAdmin(actor, "read webhooks"); !s.isOk()) {
          return respondError(res, s);
        }
        std::string id(req.param("id"));
        auto d = ctx.ledger.document(kWebhookDoc, id);
        if (!d) return respondError(res, Status::notFound("webhook \"" + id + "\" not found"));
        json::error_code ec;
        auto v = json::parse(d->body, ec);
        if (ec || !v.is_object()) {
          return respondError(res, Status::internal("webhook " + id + ": stored body is bad"));
        }
        respondJson(res, 200, publicView(v.get_object()));
      })));
  NL_RETURN_IF_ERROR(
      router.add("GET", "/v1/webhooks/{id}/deliveries",
                 withAuth(ctx, [&ctx](http::Request& req, http::Responder res, const Actor& actor) {
                   if (Status s = requireAdmin(actor, "read webhook deliveries"); !s.isOk()) {
                     return respondError(res, s);
                   }
                   std::string id(req.param("id"));
                   if (!ctx.ledger.document(kWebhookDoc, id)) {
                     return respondError(res, Status::notFound("webhook \"" + id + "\" not found"));
                   }
                   auto limit = parseLimit(req, 100, 1000);
                   if (!limit) return respondError(res, limit.status());
                   json::array items;
                   for (const auto& d : ctx.webhooks->deliveries(id, *limit)) {
                     items.emplace_back(deliveryJson(d));
                   }
                   respondJson(res, 200, json::object{{"items", std::move(items)}});
                 })));
  return router.add(
      "DELETE", "/v1/webhooks/{id}",
      withAuth(ctx, [&ctx](http::Request& req, http::Responder res, const Actor& actor) {
        if (Status s = requireAdmin(actor, "delete webhooks"); !s.isOk()) {
          return respondError(res, s);
        }
        std::string id(req.param("id"));
        std::string audit;
        if (auto d = ctx.ledger.document(kWebhookDoc, id)) {
          json::error_code ec;
          auto v = json::parse(d->body, ec);
          if (!ec && v.is_object()) audit = json::serialize(publicView(v.get_object()));
        }
        auto applied = ctx.ledger.deleteDocument(actor, kWebhookDoc, id, "webhook.delete",
                                                 "webhook:" + id, audit);
        if (!applied) return respondError(res, applied.status());
        ctx.webhooks->remove(id);
        respondWhenDurable(ctx, applied->ticket, std::move(res), http::Response::noContent());
      }));
}

}  // namespace netledger::server
