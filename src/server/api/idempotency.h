#pragma once
// Idempotency-Key on POST (the header of the IETF httpapi draft, as Stripe uses it): a client
// that retries a POST after a timeout or a dropped connection gets the first answer again, not a
// second allocation.
//
// The answer (status, content type, body) is kept as a ledger document (kind "idempotency", per
// token name and key), so every replica of a shared store and a restarted server give the same
// answer: it is in memory before the answer is sent and durable with the next group commit. A
// key reused for a different request (method, target or body) is 409 conflict; a key whose first
// request is still running on this server is 409 too (retry it later); 5xx answers are not kept
// (the request may be retried). Keys: 1 to 255 visible ASCII characters. Kept answers older than
// 24 hours no longer count and are deleted by the sweeper.
//
//   runIdempotent(ctx, req, std::move(res), actor, [&](http::Responder r) { handler(..., r); });

#include <cstddef>
#include <cstdint>
#include <functional>

#include "http/message.h"
#include "http/responder.h"
#include "ledger/actor.h"
#include "server/api/api.h"

namespace netledger::server {

void runIdempotent(ApiContext& ctx, const http::Request& req, http::Responder res,
                   const ledger::Actor& actor, const std::function<void(http::Responder)>& run);

// Deletes kept answers older than 24 hours (the sweeper, hourly); returns how many.
std::size_t forgetExpiredAnswers(ledger::Ledger& ledger, std::int64_t now_ms);

}  // namespace netledger::server
