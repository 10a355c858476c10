// /v1/webhooks: subscriptions to ledger events (admin only), their delivery log, and the
// adapter that turns committed ledger events into signed webhook deliveries.
#include <array>

#include <boost/json.hpp>

#include "common/crypto.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/event_types.h"
#include "server/api/json_input.h"
#include "webhooks/dispatcher.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

constexpr const char* kWebhookDoc = "webhook";

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

void followWebhookChanges(ApiContext& ctx, std::span<const ledger::EventRecord* const> events) {
  if (ctx.webhooks == nullptr) return;
  for (const ledger::EventRecord* e : events) {
    if (e->op != "webhook.create" && e->op != "webhook.delete") continue;
    const std::string id = e->subject.substr(e->subject.find(':') + 1);
    auto doc = ctx.ledger.document(kWebhookDoc, id);
    json::error_code ec;
    auto v = doc ? json::parse(doc->body, ec) : json::value();
    auto sub = !ec && v.is_object() ? subscriptionOf(v.get_object())
                                    : Result<webhooks::Subscription>(Status::notFound(id));
    if (sub) {
      ctx.webhooks->upsert(std::move(*sub));
    } else {
      ctx.webhooks->remove(id);
    }
  }
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
    const std::uint64_t position = ledger::positionOf(*e);
    ctx.webhooks->publish(e->op, body["id"].get_string().c_str(), json::serialize(body), position);
    if (utilization) {
      body["type"] = "pool.utilization";
      ctx.webhooks->publish("pool.utilization", std::to_string(e->seq), json::serialize(body),
                            position);
    }
  }
}

namespace {

// The webhook document `id` as the API shows it (without the secret); kNotFound when absent.
Result<json::object> storedWebhook(const ApiContext& ctx, const std::string& id) {
  auto d = ctx.ledger.document(kWebhookDoc, id);
  if (!d) return Status::notFound("webhook \"" + id + "\" not found");
  json::error_code ec;
  auto v = json::parse(d->body, ec);
  if (ec || !v.is_object()) return Status::internal("webhook " + id + ": stored body is bad");
  return publicView(v.get_object());
}

// The fields of POST /v1/webhooks, checked.
struct WebhookCreate {
  std::string url;
  std::vector<std::string> events;
  std::string secret;
};

Result<WebhookCreate> parseWebhookCreate(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"url", "events", "secret"}));
  WebhookCreate c;
  auto url = body.string("url", 4096);
  if (!url) return url.status();
  NL_RETURN_IF_ERROR(webhooks::validateUrl(*url));
  c.url = *url;
  auto events = body.stringArray("events", 32);
  if (!events) return events.status();
  if (events->empty()) {
    return Status::invalidArgument("events: give at least one filter (e.g. conflict.opened)");
  }
  for (const auto& f : *events) NL_RETURN_IF_ERROR(validateEventFilter(f));
  c.events = *events;
  auto secret = body.optString("secret", 256);
  if (!secret) return secret.status();
  c.secret = secret->value_or(randomHex(32));
  if (c.secret.size() < 16) return Status::invalidArgument("secret: at least 16 characters");
  return c;
}

void handleCreateWebhook(ApiContext& ctx, http::Request& req, http::Responder res,
                         const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto create = parseWebhookCreate(*body);
  if (!create) return respondError(res, create.status());
  json::object o;
  o["id"] = "wh-" + randomHex(6);
  o["url"] = create->url;
  json::array filters;
  for (const auto& f : create->events) filters.emplace_back(f);
  o["events"] = std::move(filters);
  o["secret"] = create->secret;
  o["active"] = true;
  o["created_by"] = actor.name;
  o["created_at"] = ledger::formatTime(ctx.engine->now());
  std::string id(o["id"].get_string());
  ledger::DocumentRecord doc{kWebhookDoc, id, json::serialize(o)};
  // The audit event (and so the event stream) must not carry the secret.
  auto applied = ctx.ledger.putDocument(actor, std::move(doc), "webhook.create", "webhook:" + id,
                                        {}, json::serialize(publicView(o)));
  if (!applied) return respondError(res, applied.status());
  auto sub = subscriptionOf(o);
  ctx.webhooks->upsert(std::move(*sub));
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(201, json::serialize(o)));
}

void handleListWebhooks(ApiContext& ctx, http::Request&, http::Responder res, const Actor&) {
  json::array items;
  for (const auto& d : ctx.ledger.documents(kWebhookDoc)) {
    json::error_code ec;
    auto v = json::parse(d.body, ec);
    if (!ec && v.is_object()) items.emplace_back(publicView(v.get_object()));
  }
  respondJson(res, 200, json::object{{"items", std::move(items)}});
}

void handleGetWebhook(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  auto webhook = storedWebhook(ctx, std::string(req.param("id")));
  if (!webhook) return respondError(res, webhook.status());
  respondJson(res, 200, *webhook);
}

void handleDeliveries(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  std::string id(req.param("id"));
  if (!ctx.ledger.document(kWebhookDoc, id)) {
    return respondError(res, Status::notFound("webhook \"" + id + "\" not found"));
  }
  auto limit = parseLimit(req, 100, 1000);
  if (!limit) return respondError(res, limit.status());
  json::array items;
  for (const auto& d : ctx.webhooks->deliveries(id, *limit)) items.emplace_back(deliveryJson(d));
  respondJson(res, 200, json::object{{"items", std::move(items)}});
}

void handleDeleteWebhook(ApiContext& ctx, http::Request& req, http::Responder res,
                         const Actor& actor) {
  std::string id(req.param("id"));
  std::string audit;
  if (auto webhook = storedWebhook(ctx, id)) audit = json::serialize(*webhook);
  auto applied =
      ctx.ledger.deleteDocument(actor, kWebhookDoc, id, "webhook.delete", "webhook:" + id, audit);
  if (!applied) return respondError(res, applied.status());
  ctx.webhooks->remove(id);
  respondWhenDurable(ctx, applied->ticket, std::move(res), http::Response::noContent());
}

}  // namespace

// Subscriptions carry secrets and reach any URL: every route is admin only.
Status registerWebhookRoutes(http::Router& router, ApiContext& ctx) {
  auto admin = [](std::string action) {
    return needsRole(ledger::Role::kAdmin, std::move(action));
  };
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/webhooks",
                                withAuth(ctx, handleCreateWebhook, admin("create webhooks"))));
  NL_RETURN_IF_ERROR(
      router.add("GET", "/v1/webhooks", withAuth(ctx, handleListWebhooks, admin("list webhooks"))));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/webhooks/{id}",
                                withAuth(ctx, handleGetWebhook, admin("read webhooks"))));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/webhooks/{id}/deliveries",
                                withAuth(ctx, handleDeliveries, admin("read webhook deliveries"))));
  return router.add("DELETE", "/v1/webhooks/{id}",
                    withAuth(ctx, handleDeleteWebhook, admin("delete webhooks")));
}

}  // namespace netledger::server
