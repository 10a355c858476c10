#include "store/etcd/peer_history.h"

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <mutex>

#include "httpclient/http_client.h"
#include "ledger/codec.h"
#include "store/etcd/etcd_records.h"

namespace netledger::store::etcd {

namespace json = boost::json;

namespace {

struct Peer {
  std::string url;
  std::unique_ptr<httpclient::HttpClient> client;
};

// Asked one at a time: the one that answered last, else the next after a failure.
struct Peers {
  std::mutex mu;
  std::vector<Peer> list;
  std::size_t current = 0;
};

std::string exportTarget(const ledger::EventQuery& q) {
  std::string target = "/v1/history/export?after_seq=" + std::to_string(q.after_seq) +
                       "&limit=" + std::to_string(q.limit);
  if (q.from > 0) target += "&from=" + httpclient::encodeQueryValue(ledger::formatTime(q.from));
  if (q.to != INT64_MAX) {
    target += "&before=" + httpclient::encodeQueryValue(ledger::formatTime(q.to + 1));
  }
  return target;
}

Result<std::vector<ledger::EventRecord>> parseExport(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::array* events = nullptr;
  if (!ec && v.is_object()) {
    if (const json::value* e = v.as_object().if_contains("events")) events = e->if_array();
  }
  if (events == nullptr) return Status::unavailable("not a history export");
  std::vector<ledger::EventRecord> out(events->size());
  for (std::size_t i = 0; i < events->size(); ++i) {
    NL_RETURN_IF_ERROR(decode(json::serialize((*events)[i]), out[i]));
  }
  return out;
}

// One page from one peer. kUnavailable for a transport failure or an answer that is not one.
Result<std::vector<ledger::EventRecord>> ask(Peer& peer, const std::string& token,
                                             const ledger::EventQuery& q) {
  httpclient::HttpRequest req{"GET", exportTarget(q), {{"Authorization", "Bearer " + token}}, ""};
  auto res = peer.client->send(req);
  if (!res) return res.status();
  if (res->status != 200) {
    const std::string why = "answered " + std::to_string(res->status) + ": " + res->body;
    if (res->status == 401) return Status::unauthorized(why);
    if (res->status == 403) return Status::forbidden(why);
    return Status::unavailable(why);
  }
  return parseExport(res->body);
}

}  // namespace

Result<ledger::Store::HistorySource> peerHistorySource(const PeerHistoryOptions& options) {
  if (options.urls.empty()) return Status::invalidArgument("history_peer: no URL");
  if (options.token.empty()) {
    return Status::invalidArgument(
        "history_peer: needs a token (history_peer_token_file or NETLEDGER_HISTORY_PEER_TOKEN)");
  }
  auto peers = std::make_shared<Peers>();
  for (const auto& url : options.urls) {
    httpclient::HttpClientOptions o;
    o.ca_file = options.ca_file;
    // Bounded, so that a dead peer holds the archive's thread (and a shutdown) only briefly.
    o.connect_timeout = std::chrono::seconds(2);
    o.request_timeout = std::chrono::seconds(15);
    auto client = httpclient::HttpClient::create(url, o);
    if (!client) return client.status().withContext("history_peer " + url);
    peers->list.push_back({url, std::move(*client)});
  }
  return ledger::Store::HistorySource([peers, token = options.token](const ledger::EventQuery& q)
                                          -> Result<std::vector<ledger::EventRecord>> {
    std::lock_guard lock(peers->mu);
    Peer& peer = peers->list[peers->current];
    auto page = ask(peer, token, q);
    if (page) return page;
    peers->current = (peers->current + 1) % peers->list.size();  // the next one next time
    return page.status().withContext("history peer " + peer.url);
  });
}

}  // namespace netledger::store::etcd
