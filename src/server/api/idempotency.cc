#include "server/api/idempotency.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "common/crypto.h"
#include "server/api/common.h"

namespace netledger::server {

namespace json = boost::json;

namespace {

constexpr const char* kDocKind = "idempotency";
constexpr std::int64_t kKeepMs = 24LL * 3600 * 1000;

Status checkKey(std::string_view key) {
  if (key.empty() || key.size() > 255) {
    return Status::invalidArgument("Idempotency-Key: must be 1 to 255 characters");
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return Status::invalidArgument("Idempotency-Key: only visible ASCII characters");
    }
  }
  return Status::ok();
}

std::int64_t nowMs(const ApiContext& ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock->now().time_since_epoch())
      .count();
}

// The kept answer for `doc_key` when it is younger than a day; nullopt otherwise.
std::optional<json::object> keptAnswer(ApiContext& ctx, const std::string& doc_key) {
  auto doc = ctx.ledger.document(kDocKind, doc_key);
  if (!doc) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(doc->body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::value* created = v.as_object().if_contains("created");
  if (created == nullptr || !created->is_int64() || nowMs(ctx) - created->as_int64() > kKeepMs) {
    return std::nullopt;
  }
  return std::move(v.as_object());
}

void replay(const json::object& kept, http::Responder& res) {
  http::Response r;
  r.status = static_cast<unsigned>(kept.at("status").to_number<std::int64_t>());
  r.contentType = std::string(kept.at("content_type").as_string());
  r.body = std::string(kept.at("body").as_string());
  r.headers.set("Idempotent-Replayed", "true");
  res(std::move(r));
}

// Keeps `r` under `doc_key`, then sends it once the kept answer is durable too: a client whose
// connection broke after the answer left may retry on another replica, or after a crash, and
// must find the answer there instead of having the request run twice. Costs one more group
// commit of latency, not throughput. If keeping fails the answer still goes out (the request
// did happen); only a retry of it could then run again.
void keepThenSend(ApiContext& ctx, const ledger::Actor& actor, const std::string& doc_key,
                  const std::string& fingerprint, http::Response r, http::Responder res) {
  if (r.status >= 500 || r.onStream) return res(std::move(r));
  json::object kept{{"fingerprint", fingerprint},
                    {"status", r.status},
                    {"content_type", r.contentType},
                    {"body", r.body},
                    {"created", nowMs(ctx)}};
  ledger::DocumentRecord doc{kDocKind, doc_key, json::serialize(kept), 0, 0};
  auto put = ctx.ledger.putDocument(actor, std::move(doc), "", "");
  if (!put) return res(std::move(r));
  auto state =
      std::make_shared<std::pair<http::Responder, http::Response>>(std::move(res), std::move(r));
  ctx.ledger.whenDurable(put->ticket, [state](Status) { state->first(std::move(state->second)); });
}

}  // namespace

void runIdempotent(ApiContext& ctx, const http::Request& req, http::Responder res,
                   const ledger::Actor& actor, const std::function<void(http::Responder)>& run) {
  auto header = req.header("Idempotency-Key");
  if (!header || req.method != "POST") return run(std::move(res));
  if (Status s = checkKey(*header); !s.isOk()) return respondError(res, s);
  const std::string doc_key = actor.name + "/" + std::string(*header);
  const std::string fingerprint = req.method + " " + req.target + " " + toHex(sha256(req.body));
  if (auto kept = keptAnswer(ctx, doc_key)) {
    if (kept->at("fingerprint").as_string() != fingerprint) {
      return respondError(res, Status::conflict("Idempotency-Key: \"" + std::string(*header) +
                                                "\" was used for a different request"));
    }
    return replay(*kept, res);
  }
  auto in_flight = ctx.in_flight_keys;
  {
    std::lock_guard lock(in_flight->mu);
    if (!in_flight->keys.insert(doc_key).second) {
      return respondError(res, Status::conflict("Idempotency-Key: \"" + std::string(*header) +
                                                "\" is in use by a request still running"));
    }
  }
  auto state = std::make_shared<http::Responder>(std::move(res));
  run(http::Responder::fromCallback(
      [&ctx, actor, doc_key, fingerprint, state, in_flight](http::Response r) {
        {
          std::lock_guard lock(in_flight->mu);
          in_flight->keys.erase(doc_key);
        }
        keepThenSend(ctx, actor, doc_key, fingerprint, std::move(r), std::move(*state));
      }));
}

std::size_t forgetExpiredAnswers(ledger::Ledger& ledger, std::int64_t now_ms) {
  std::size_t forgotten = 0;
  for (const auto& doc : ledger.documents(kDocKind)) {
    boost::system::error_code ec;
    json::value v = json::parse(doc.body, ec);
    const json::value* created =
        !ec && v.is_object() ? v.as_object().if_contains("created") : nullptr;
    if (created != nullptr && created->is_int64() && now_ms - created->as_int64() <= kKeepMs) {
      continue;
    }
    if (ledger.deleteDocument(ledger::Actor::system("sweeper"), kDocKind, doc.key, "", "").isOk()) {
      ++forgotten;
    }
  }
  return forgotten;
}

}  // namespace netledger::server
