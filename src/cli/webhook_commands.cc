// `netledger webhook create|list|show|delete|deliveries`: who is told about the ledger's events
// (/v1/webhooks, admin only), and what happened to each delivery.
#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

struct WebhookArgs {
  std::string id, url, secret;
  std::vector<std::string> events;
  int limit = 100;
};

void printWebhookList(std::ostream& out, const json::value& body) {
  printItems(out, body, {"ID", "URL", "EVENTS", "ACTIVE", "CREATED"},
             {"id", "url", "events", "active", "created_at"});
}

// Creation is the one answer that carries the secret: shown once, as `token create` does.
void printWebhook(std::ostream& out, const json::value& w) {
  json::object rows;
  for (const char* key : {"id", "url", "events", "active", "created_by", "created_at", "secret"}) {
    if (const json::value& v = member(w, key); !v.is_null()) rows[key] = cellText(v);
  }
  printResult(out, OutputFormat::kTable, rows);
  if (!member(w, "secret").is_null()) {
    out << "\nKeep the secret: deliveries are signed with it (X-Netledger-Signature) and it is "
           "not shown again.\n";
  }
}

void printDeliveries(std::ostream& out, const json::value& body) {
  printItems(
      out, body, {"TIME", "EVENT", "EVENT ID", "ATTEMPT", "OUTCOME", "STATUS", "MS", "ERROR"},
      {"time", "event_type", "event_id", "attempt", "outcome", "status", "duration_ms", "error"});
}

void addWebhookCreate(CLI::App& webhook, const ClientEnvPtr& env,
                      const std::shared_ptr<WebhookArgs>& a) {
  auto* create = webhook.add_subcommand("create", "Subscribe a URL to events");
  create->add_option("url", a->url, "Where to POST (http or https)")->required();
  create
      ->add_option("--events", a->events,
                   "Event filters, comma-separated or repeated (conflict.*, binding.allocate, "
                   "report.health)")
      ->required()
      ->delimiter(',');
  create->add_option("--secret", a->secret, "Signing secret, 16+ characters (default: random)");
  create->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      json::array events;
      for (const auto& e : a->events) events.emplace_back(e);
      json::object body{{"url", a->url}, {"events", std::move(events)}};
      if (!a->secret.empty()) body["secret"] = a->secret;
      json::value v(std::move(body));
      return callAndPrint(*env, out, err, "POST", "/v1/webhooks", &v, printWebhook);
    };
  });
}

void addWebhookReads(CLI::App& webhook, const ClientEnvPtr& env,
                     const std::shared_ptr<WebhookArgs>& a) {
  webhook.add_subcommand("list", "List subscriptions")->callback([env] {
    env->action = [env](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/webhooks", nullptr, printWebhookList);
    };
  });
  auto* show = webhook.add_subcommand("show", "One subscription");
  show->add_option("id", a->id, "Webhook id (wh-...)")->required();
  show->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/webhooks/" + encodePathSegment(a->id),
                          nullptr, printWebhook);
    };
  });
  auto* deliveries = webhook.add_subcommand("deliveries", "Recent deliveries and their outcome");
  deliveries->add_option("id", a->id, "Webhook id")->required();
  deliveries->add_option("--limit", a->limit, "At most this many (default 100)")
      ->check(CLI::Range(1, 1000));
  deliveries->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET",
                          "/v1/webhooks/" + encodePathSegment(a->id) +
                              "/deliveries?limit=" + std::to_string(a->limit),
                          nullptr, printDeliveries);
    };
  });
}

}  // namespace

void addWebhookCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<WebhookArgs>();
  auto* webhook = app.add_subcommand(
      "webhook", "Event subscriptions (admin): create, list, show, delete, deliveries");
  webhook->require_subcommand(1);
  addWebhookCreate(*webhook, env, a);
  addWebhookReads(*webhook, env, a);
  auto* del = webhook->add_subcommand("delete", "Unsubscribe");
  del->add_option("id", a->id, "Webhook id")->required();
  del->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndConfirmDelete(*env, out, err, "/v1/webhooks/" + encodePathSegment(a->id),
                                  "webhook", a->id);
    };
  });
}

}  // namespace netledger::cli
