// GET /v1/events: the ledger's events (bindings, pools, conflicts, ...) as server-sent events,
// resumable with Last-Event-ID (the event's position: its seq on a single node; see
// ledger::positionOf). Filters: ?types=binding.*,conflict.opened.
#include <boost/json.hpp>

#include "common/parse.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/event_types.h"
#include "server/events/event_hub.h"
#include "webhooks/dispatcher.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

// Comma-separated event-type filters, the same syntax as webhook filters.
Result<std::vector<std::string>> parseTypes(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view t = text.substr(0, comma);
    if (Status s = validateEventFilter(t); !s.isOk()) return s.withContext("types");
    out.emplace_back(t);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// A tenant-limited token sees the events of records of its tenants only.
bool visibleTo(const Actor& actor, const ledger::EventRecord& e) {
  if (actor.tenants.empty()) return true;
  const std::string& text = e.after.empty() ? e.before : e.after;
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  const json::value* tenant = v.get_object().if_contains("tenant");
  if (tenant == nullptr || !tenant->is_string()) return false;
  return actor.mayAccessTenant(std::string(tenant->get_string()));
}

std::string frame(const ledger::EventRecord& e) {
  std::string out =
      "id: " + std::to_string(ledger::positionOf(e)) + "\nevent: " + e.op + "\ndata: ";
  out += json::serialize(ledger::toJson(e));  // serialized JSON has no raw newlines
  out += "\n\n";
  return out;
}

void handleEvents(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  std::vector<std::string> types;
  if (auto t = req.queryParam("types")) {
    auto parsed = parseTypes(*t);
    if (!parsed) return respondError(res, parsed.status());
    types = std::move(*parsed);
  }
  std::uint64_t after = 0;
  std::string_view field = "Last-Event-ID";
  auto last = req.header(field);
  if (!last) last = req.queryParam(field = "last_event_id");
  if (last && !last->empty()) {
    auto id = parseUnsigned(field, *last, UINT64_MAX);
    if (!id || *id == 0) {
      return respondError(res, Status::invalidArgument(
                                   std::string(field) + ": \"" + std::string(last->substr(0, 40)) +
                                   "\" is not an event id (the positive integer `id:` of an "
                                   "event this stream sent)"));
    }
    after = *id;
  }
  http::Response r;
  r.status = 200;
  r.contentType = "text/event-stream";
  r.headers.set("Cache-Control", "no-cache");
  r.headers.set("X-Accel-Buffering", "no");  // tell proxies not to buffer the stream
  r.body = "retry: 2000\n\n";
  EventHub* hub = ctx.events;
  r.onStream = [hub, types = std::move(types), after,
                actor](std::shared_ptr<http::StreamWriter> writer) {
    hub->subscribe(after, [writer, types, actor](const ledger::EventRecord* e) {
      if (!writer->isOpen()) return false;
      if (e == nullptr) return writer->write(": keep-alive\n\n");
      bool wanted = types.empty();
      for (const auto& t : types) wanted = wanted || webhooks::eventMatches(t, e->op);
      if (!wanted || !visibleTo(actor, *e)) return true;
      return writer->write(frame(*e));
    });
  };
  res(std::move(r));
}

}  // namespace

Status registerEventRoutes(http::Router& router, ApiContext& ctx) {
  return router.add("GET", "/v1/events", withAuth(ctx, handleEvents));
}

}  // namespace netledger::server
