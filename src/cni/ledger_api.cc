#include "cni/ledger_api.h"

#include <chrono>
#include <fstream>

#include "common/crypto.h"

namespace netledger::cni {

namespace json = boost::json;

namespace {

// Bounded so a kubelet never waits on a dead server longer than its own ADD timeout.
constexpr std::chrono::milliseconds kConnectTimeout{3000};
constexpr std::chrono::milliseconds kRequestTimeout{10000};

std::string problemText(const json::value& body) {
  const json::object* o = body.if_object();
  if (o == nullptr) return "";
  for (const char* key : {"detail", "title"}) {
    if (const json::value* v = o->if_contains(key); v && v->is_string()) {
      return std::string(v->get_string());
    }
  }
  return "";
}

std::string problemCode(const json::value& body) {
  const json::object* o = body.if_object();
  const json::value* v = o ? o->if_contains("code") : nullptr;
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

}  // namespace

LedgerApi::LedgerApi(std::unique_ptr<httpclient::HttpClient> client, std::string token)
    : client_(std::move(client)), token_(std::move(token)) {}

CniResult<std::unique_ptr<LedgerApi>> LedgerApi::create(const IpamConfig& ipam) {
  std::string token;
  if (!ipam.token_file.empty()) {
    std::ifstream in(ipam.token_file);
    if (!in) {
      return CniError{kIoFailure, "tokenFile: cannot read \"" + ipam.token_file + "\"", ""};
    }
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) {
      return CniError{kInvalidNetworkConfig, "tokenFile: \"" + ipam.token_file + "\" is empty", ""};
    }
  }
  httpclient::HttpClientOptions options;
  options.connect_timeout = kConnectTimeout;
  options.request_timeout = kRequestTimeout;
  auto client = httpclient::HttpClient::create(ipam.server, options);
  if (!client) {
    return CniError{kInvalidNetworkConfig, "server: " + client.status().message(), ""};
  }
  return std::unique_ptr<LedgerApi>(new LedgerApi(std::move(*client), std::move(token)));
}

CniResult<ApiAnswer> LedgerApi::call(const std::string& method, const std::string& target,
                                     const json::value* body) {
  httpclient::HttpRequest req;
  req.method = method;
  req.target = target;
  if (!token_.empty()) req.headers.push_back({"Authorization", "Bearer " + token_});
  if (body != nullptr) {
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = json::serialize(*body);
  }
  if (method == "POST") req.headers.push_back({"Idempotency-Key", newIdempotencyKey()});
  auto res = client_->send(req);
  // A connection that broke under a POST: once more with the same key (the server answers what
  // it did the first time).
  if (!res && method == "POST") res = client_->send(req);
  if (!res) {
    return CniError{
        kTryAgainLater,
        "netledgerd at " + client_->origin() + " is unreachable: " + res.status().message(),
        method + " " + target};
  }
  ApiAnswer answer;
  answer.status = res->status;
  if (!res->body.empty()) {
    boost::system::error_code ec;
    answer.body = json::parse(res->body, ec);
    if (ec) answer.body = json::value(res->body);  // kept as text for the error details
  }
  if (answer.status >= 500) {
    return CniError{kTryAgainLater,
                    "netledgerd answered " + std::to_string(answer.status) + " to " + method + " " +
                        target + ": " + problemText(answer.body),
                    res->body};
  }
  return answer;
}

CniError LedgerApi::refused(const std::string& what, const ApiAnswer& answer) const {
  const std::string code = problemCode(answer.body);
  const int cni_code =
      (code == "invalid_argument" || code == "not_found") ? kInvalidNetworkConfig : kLedgerRefused;
  return CniError{cni_code,
                  what + ": netledgerd answered " + std::to_string(answer.status) +
                      (code.empty() ? "" : " " + code) + ": " + problemText(answer.body),
                  json::serialize(answer.body)};
}

CniResult<json::object> LedgerApi::allocate(const json::object& request) {
  json::value body(request);
  auto answer = call("POST", "/v1/bindings", &body);
  if (!answer) return answer.error();
  if ((answer->status == 200 || answer->status == 201) && answer->body.is_object()) {
    return answer->body.get_object();
  }
  // A MAC the ledger refuses (held by another binding, quarantined after a release) must not
  // cost the pod its address: allocate without it, as without a MAC reader; the chained step,
  // if any, reports the MAC conflict as it always did.
  if ((answer->status == 409 || answer->status == 400) && request.contains("mac") &&
      problemText(answer->body).rfind("mac", 0) == 0) {
    json::object without = request;
    without.erase("mac");
    return allocate(without);
  }
  return refused("allocate", *answer);
}

CniResult<std::vector<json::object>> LedgerApi::liveBindings(const std::string& instance,
                                                             const std::string& interface) {
  auto answer = call(
      "GET", "/v1/bindings?limit=1000&instance=" + httpclient::encodeQueryValue(instance), nullptr);
  if (!answer) return answer.error();
  const json::object* o = answer->body.if_object();
  const json::value* items = o ? o->if_contains("items") : nullptr;
  if (answer->status != 200 || items == nullptr || !items->is_array()) {
    return refused("find bindings of " + instance, *answer);
  }
  std::vector<json::object> live;
  for (const auto& item : items->get_array()) {
    const json::object* b = item.if_object();
    if (b == nullptr) continue;
    const json::value* itf = b->if_contains("interface");
    const json::value* state = b->if_contains("state");
    if (!itf || !itf->is_string() || itf->get_string() != interface) continue;
    if (!state || !state->is_string()) continue;
    if (state->get_string() == "reserved" || state->get_string() == "active") live.push_back(*b);
  }
  return live;
}

CniResult<bool> LedgerApi::release(const std::string& id) {
  auto answer = call("DELETE", "/v1/bindings/" + httpclient::encodePathSegment(id), nullptr);
  if (!answer) return answer.error();
  if (answer->status == 200 || answer->status == 404) return true;
  return refused("release binding " + id, *answer);
}

CniResult<json::object> LedgerApi::updateBinding(const std::string& id,
                                                 const json::object& changes) {
  json::value body(changes);
  auto answer = call("PATCH", "/v1/bindings/" + httpclient::encodePathSegment(id), &body);
  if (!answer) return answer.error();
  if (answer->status == 200 && answer->body.is_object()) return answer->body.get_object();
  return refused("update binding " + id, *answer);
}

CniResult<std::vector<json::object>> LedgerApi::portMaps(const std::string& binding_id) {
  auto answer =
      call("GET", "/v1/portmaps?binding_id=" + httpclient::encodeQueryValue(binding_id), nullptr);
  if (!answer) return answer.error();
  const json::object* o = answer->body.if_object();
  const json::value* items = o ? o->if_contains("items") : nullptr;
  if (answer->status != 200 || items == nullptr || !items->is_array()) {
    return refused("list port mappings of binding " + binding_id, *answer);
  }
  std::vector<json::object> out;
  for (const auto& item : items->get_array()) {
    if (item.is_object()) out.push_back(item.get_object());
  }
  return out;
}

CniResult<json::object> LedgerApi::createPortMap(const json::object& request) {
  json::value body(request);
  auto answer = call("POST", "/v1/portmaps", &body);
  if (!answer) return answer.error();
  if (answer->status == 201 && answer->body.is_object()) return answer->body.get_object();
  return refused("portMappings", *answer);
}

CniResult<bool> LedgerApi::deletePortMap(const std::string& id) {
  auto answer = call("DELETE", "/v1/portmaps/" + httpclient::encodePathSegment(id), nullptr);
  if (!answer) return answer.error();
  if (answer->status == 204 || answer->status == 404) return true;
  return refused("delete port mapping " + id, *answer);
}

CniResult<json::object> LedgerApi::pool(const std::string& name) {
  auto answer = call("GET", "/v1/pools/" + httpclient::encodePathSegment(name), nullptr);
  if (!answer) return answer.error();
  if (answer->status == 200 && answer->body.is_object()) return answer->body.get_object();
  if (answer->status == 404) {
    return CniError{kInvalidNetworkConfig, "pools: no pool \"" + name + "\" in the ledger",
                    json::serialize(answer->body)};
  }
  return refused("read pool " + name, *answer);
}

CniResult<json::object> LedgerApi::createOrGetPool(const json::object& request) {
  json::value body(request);
  auto answer = call("POST", "/v1/pools", &body);
  if (!answer) return answer.error();
  if (answer->status == 201 && answer->body.is_object()) return answer->body.get_object();
  const json::value* name = request.if_contains("name");
  if (answer->status == 409 && name && name->is_string() &&
      problemText(answer->body).rfind("name:", 0) == 0) {
    return pool(std::string(name->get_string()));  // created earlier (another pod, another node)
  }
  return refused("create pool", *answer);
}

}  // namespace netledger::cni
