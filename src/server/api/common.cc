#include "server/api/common.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include <boost/json.hpp>

#include "common/parse.h"
#include "ledger/codec.h"
#include "server/api/idempotency.h"
#include "vendor/oui_registry.h"

namespace netledger::server {

namespace {
boost::json::value vendorValue(addr::Mac mac) {
  return boost::json::parse(vendor::vendorJson(vendor::defaultRegistry().lookup(mac)));
}
}  // namespace

boost::json::object bindingJson(const ledger::BindingRecord& b) {
  boost::json::object o = ledger::toJson(b);
  if (b.mac) o["mac_vendor"] = vendorValue(*b.mac);
  return o;
}

std::string withMacVendor(std::string binding_json, const std::optional<addr::Mac>& mac) {
  if (!mac || binding_json.empty() || binding_json.back() != '}') return binding_json;
  binding_json.pop_back();
  binding_json += ",\"mac_vendor\":";
  binding_json += vendor::vendorJson(vendor::defaultRegistry().lookup(*mac));
  binding_json += '}';
  return binding_json;
}

boost::json::object vendorsOf(const std::vector<std::string>& macs) {
  boost::json::object out;
  for (const auto& text : macs) {
    if (out.contains(text)) continue;
    if (auto mac = addr::Mac::parse(text)) out[text] = vendorValue(*mac);
  }
  return out;
}

Result<ledger::Actor> authenticate(const ApiContext& ctx, const http::Request& req) {
  auto header = req.header("Authorization");
  if (!header) {
    return Status::unauthorized("missing Authorization: Bearer <token>");
  }
  std::string_view h = *header;
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size() || !http::equalsIgnoreCase(h.substr(0, kBearer.size()), kBearer)) {
    return Status::unauthorized("Authorization: expected \"Bearer <token>\"");
  }
  auto token = ctx.ledger.authenticate(std::string(h.substr(kBearer.size())));
  if (!token) return token.status();
  return ledger::Actor{token->name, token->role, token->tenants};
}

void respondJson(http::Responder& res, unsigned status, const boost::json::value& body) {
  res(http::Response::json(status, boost::json::serialize(body)));
}

void respondError(http::Responder& res, const Status& status) {
  res(http::problemFromStatus(status));
}

void respondWhenDurable(ApiContext& ctx, std::uint64_t ticket, http::Responder res,
                        http::Response response) {
  // std::function needs copyable state; the Responder and response move into shared state.
  auto state = std::make_shared<std::pair<http::Responder, http::Response>>(std::move(res),
                                                                            std::move(response));
  ctx.ledger.whenDurable(ticket, [state](Status s) {
    if (s.isOk()) {
      state->first(std::move(state->second));
    } else {
      state->first(http::problemFromStatus(s));
    }
  });
}

Access needsRole(ledger::Role role, std::string action) { return {role, std::move(action), {}}; }

Access needsUnscoped(std::string what) { return {ledger::Role::kViewer, {}, std::move(what)}; }

Status authorize(const ledger::Actor& actor, const Access& access) {
  NL_RETURN_IF_ERROR(ledger::requireRole(actor, access.role, access.action));
  if (access.unscoped.empty()) return Status::ok();
  return ledger::requireUnscoped(actor, access.unscoped);
}

namespace {

// One write request on a shared store, run until it is not overtaken by another replica.
struct RetriedRequest {
  ApiContext& ctx;
  ApiHandler handler;
  http::Request request;  // a copy: each run hands the handler a fresh one
  http::Responder responder;
  ledger::Actor actor;
  int runs = 0;
  bool caught_up = false;  // waited for the store's feed after a "not found"
};

constexpr int kMaxRuns = 16;

bool isAborted(const http::Response& r) {
  return r.status == 503 && r.body.find("\"code\":\"aborted\"") != std::string::npos;
}

bool isNotFound(const http::Response& r) {
  return r.status == 404 && r.body.find("\"code\":\"not_found\"") != std::string::npos;
}

void runOnce(std::shared_ptr<RetriedRequest> state);

// A write that found nothing may have come a moment after another replica created what it
// names (a client allocating on one replica and releasing on another): once this replica holds
// everything etcd had when it asked, the request runs again, and its answer stands. A replica
// that cannot catch up says so (503) instead of a "not found" it cannot vouch for.
void catchUpThenRun(std::shared_ptr<RetriedRequest> state) {
  state->caught_up = true;
  std::thread([state] {
    Status s = state->ctx.ledger.store().catchUp(std::chrono::seconds(2));
    if (!s.isOk()) return state->responder(http::problemFromStatus(s));
    runOnce(state);
  }).detach();
}

void runOnce(std::shared_ptr<RetriedRequest> state) {
  ++state->runs;
  auto run_request = std::make_shared<http::Request>(state->request);
  auto res = http::Responder::fromCallback([state, run_request](http::Response r) {
    if (isNotFound(r) && !state->caught_up) return catchUpThenRun(state);
    if (!isAborted(r) || state->runs >= kMaxRuns) return state->responder(std::move(r));
    // Overtaken: memory was rebuilt from the store; run again after a short jittered pause so
    // replicas racing for the same addresses fall out of step. Not on this thread: it is the
    // committer's.
    thread_local std::mt19937 rng{std::random_device{}()};
    auto pause = std::chrono::microseconds(
        std::uniform_int_distribution<int>(200, 2000 * std::min(state->runs, 5))(rng));
    std::thread([state, pause] {
      std::this_thread::sleep_for(pause);
      runOnce(state);
    }).detach();
  });
  state->handler(state->ctx, *run_request, std::move(res), state->actor);
}

bool isWrite(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}  // namespace

http::Handler withAuth(ApiContext& ctx, ApiHandler handler, Access access) {
  return [&ctx, handler, access = std::move(access)](http::Request& req, http::Responder res) {
    auto actor = authenticate(ctx, req);
    if (!actor) return respondError(res, actor.status());
    if (Status s = authorize(*actor, access); !s.isOk()) return respondError(res, s);
    // Idempotency-Key outside, retries inside: the answer kept is the one the client gets.
    auto run = [&ctx, handler, &req, &actor](http::Responder r) {
      if (!ctx.retry_aborted || !isWrite(req.method)) {
        return handler(ctx, req, std::move(r), *actor);
      }
      runOnce(std::make_shared<RetriedRequest>(
          RetriedRequest{ctx, handler, req, std::move(r), *actor}));
    };
    runIdempotent(ctx, req, std::move(res), *actor, run);
  };
}

http::Handler withoutAuth(ApiContext& ctx, PublicHandler handler) {
  return [&ctx, handler](http::Request& req, http::Responder res) {
    handler(ctx, req, std::move(res));
  };
}

Result<std::uint64_t> parseId(std::string_view field, std::string_view text) {
  auto id = parseUnsigned(field, text);
  if (id && *id > 0) return id;
  return Status::invalidArgument(std::string(field) + ": \"" + std::string(text.substr(0, 40)) +
                                 "\" is not a binding id (a positive integer)");
}

Result<std::size_t> parseLimit(const http::Request& req, std::size_t fallback, std::size_t max) {
  auto text = req.queryParam("limit");
  if (!text) return fallback;
  auto n = parseInteger("limit", *text, 1, static_cast<std::int64_t>(max));
  if (!n) return n.status();
  return static_cast<std::size_t>(*n);
}

}  // namespace netledger::server
