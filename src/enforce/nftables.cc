#include "enforce/nftables.h"

#include <nftables/libnftables.h>

#include <boost/json.hpp>

#include "enforce/ruleset.h"

namespace netledger::enforce {

struct Nftables::Ctx {
  nft_ctx* nft = nullptr;
  ~Ctx() {
    if (nft) nft_ctx_free(nft);
  }
};

Result<std::unique_ptr<Nftables>> Nftables::open() {
  auto ctx = std::make_unique<Ctx>();
  ctx->nft = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx->nft) return Status::unavailable("nftables: cannot create a libnftables context");
  // Output and errors go to buffers (read after each command), never to our stdout/stderr;
  // listings come as JSON so they are parsed, not scraped.
  nft_ctx_buffer_output(ctx->nft);
  nft_ctx_buffer_error(ctx->nft);
  nft_ctx_output_set_flags(ctx->nft, NFT_CTX_OUTPUT_JSON);
  return std::unique_ptr<Nftables>(new Nftables(std::move(ctx)));
}

Nftables::Nftables(std::unique_ptr<Ctx> ctx) : ctx_(std::move(ctx)) {}
Nftables::~Nftables() = default;

Status Nftables::run(std::string_view script) {
  const std::string text(script);  // libnftables reads a NUL-terminated buffer
  if (nft_run_cmd_from_buffer(ctx_->nft, text.c_str()) != 0) {
    std::string error = nft_ctx_get_error_buffer(ctx_->nft);
    while (!error.empty() && error.back() == '\n') error.pop_back();
    return Status::unavailable("nftables: " + (error.empty() ? "the script was refused" : error));
  }
  (void)nft_ctx_get_output_buffer(ctx_->nft);  // drained: the buffer never grows
  return Status::ok();
}

bool Nftables::hasForwards() {
  const std::string cmd = "list chain inet " + std::string(kTableName) + " postrouting";
  const bool there = nft_run_cmd_from_buffer(ctx_->nft, cmd.c_str()) == 0;
  (void)nft_ctx_get_output_buffer(ctx_->nft);
  (void)nft_ctx_get_error_buffer(ctx_->nft);
  return there;
}

namespace {

// Adds the named counters (packets) of a JSON counter listing to `counts`; false when the
// listing is not one.
bool addCounters(const char* listing, std::map<std::string, std::uint64_t>& counts) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(listing, ec);
  const boost::json::array* items = nullptr;
  if (!ec && doc.is_object()) {
    if (auto* v = doc.as_object().if_contains("nftables")) items = v->if_array();
  }
  if (!items) return false;
  for (const boost::json::value& item : *items) {
    const auto* obj = item.if_object();
    const auto* counter = obj ? obj->if_contains("counter") : nullptr;
    if (!counter || !counter->is_object()) continue;
    const auto& c = counter->as_object();
    const auto* name = c.if_contains("name");
    const auto* packets = c.if_contains("packets");
    if (name && name->is_string() && packets && packets->is_number()) {
      counts[std::string(name->as_string())] += packets->to_number<std::uint64_t>();
    }
  }
  return true;
}

}  // namespace

// The bridge table's counters plus, when present, the host interfaces' (same names).
Result<std::map<std::string, std::uint64_t>> Nftables::dropCounts() {
  const std::string cmd = "list counters table bridge " + std::string(kTableName);
  if (nft_run_cmd_from_buffer(ctx_->nft, cmd.c_str()) != 0) {
    (void)nft_ctx_get_error_buffer(ctx_->nft);
    return Status::notFound("nftables: no table bridge " + std::string(kTableName));
  }
  std::map<std::string, std::uint64_t> counts;
  if (!addCounters(nft_ctx_get_output_buffer(ctx_->nft), counts)) {
    return Status::internal("nftables: unreadable counter listing");
  }
  const std::string host = "list counters table netdev " + std::string(kTableName);
  if (nft_run_cmd_from_buffer(ctx_->nft, host.c_str()) == 0) {
    (void)addCounters(nft_ctx_get_output_buffer(ctx_->nft), counts);
  } else {
    (void)nft_ctx_get_error_buffer(ctx_->nft);
  }
  return counts;
}

}  // namespace netledger::enforce
