#include "store/etcd/etcd_client.h"

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <thread>

#include "common/crypto.h"
#include "httpclient/http_client.h"

namespace netledger::store::etcd {

namespace json = boost::json;

namespace {

std::string base64(std::string_view raw) { return base64Encode(raw); }

Result<std::string> unbase64(std::string_view text) {
  auto out = base64Decode(text);
  if (!out) return Status::unavailable("etcd sent malformed base64");
  return std::move(*out);
}

// The gateway writes int64 fields as JSON strings ("revision": "12"); absent means 0.
std::int64_t int64Of(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (!v->is_string()) return 0;
  std::int64_t out = 0;
  const json::string& s = v->as_string();
  std::from_chars(s.data(), s.data() + s.size(), out);
  return out;
}

std::string stringOf(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

Result<KeyValue> keyValueOf(const json::object& o) {
  KeyValue kv;
  auto key = unbase64(stringOf(o, "key"));
  if (!key) return key.status();
  auto value = unbase64(stringOf(o, "value"));
  if (!value) return value.status();
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = int64Of(o, "create_revision");
  kv.mod_revision = int64Of(o, "mod_revision");
  kv.version = int64Of(o, "version");
  return kv;
}

Result<json::object> parseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::unavailable("etcd sent a malformed answer");
  return std::move(v.as_object());
}

const json::object& objectOr(const json::object& o, std::string_view field) {
  static const json::object empty;
  const json::value* v = o.if_contains(field);
  return v != nullptr && v->is_object() ? v->as_object() : empty;
}

std::string_view compareTarget(Compare::Target t) {
  switch (t) {
    case Compare::Target::kVersion:
      return "VERSION";
    case Compare::Target::kCreateRevision:
      return "CREATE";
    case Compare::Target::kModRevision:
      return "MOD";
  }
  return "VERSION";
}

std::string_view compareField(Compare::Target t) {
  switch (t) {
    case Compare::Target::kVersion:
      return "version";
    case Compare::Target::kCreateRevision:
      return "create_revision";
    case Compare::Target::kModRevision:
      return "mod_revision";
  }
  return "version";
}

// etcd's gRPC codes that mean the request itself is wrong (too many operations, too large).
Status errorFromEtcd(unsigned http_status, std::string_view body) {
  std::string message = "HTTP " + std::to_string(http_status);
  std::int64_t code = 0;
  if (auto o = parseObject(body); o.isOk()) {
    message = stringOf(*o, "message");
    if (message.empty()) message = stringOf(*o, "error");
    code = int64Of(*o, "code");
  }
  if (code == 3 || code == 11)
    return Status::invalidArgument("etcd refused the request: " + message);
  return Status::unavailable("etcd: " + message);
}

bool isAuthError(const Status& s) {
  return s.message().find("auth token") != std::string::npos ||
         s.message().find("authentication") != std::string::npos;
}

}  // namespace

std::string prefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

namespace {

// One "NAME=N" option with N in [lo, hi].
Status parseNumberOption(std::string_view name, std::string_view value, std::int64_t lo,
                         std::int64_t hi, std::int64_t& out) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < lo || n > hi) {
    return Status::invalidArgument("store: \"" + std::string(name) + "=" + std::string(value) +
                                   "\": wants a whole number from " + std::to_string(lo) + " to " +
                                   std::to_string(hi));
  }
  out = n;
  return Status::ok();
}

// "max-txn-ops=N&history=PATH&log-hours=N" (each optional).
Status parseStoreOptions(std::string_view query, EtcdTarget& t) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view option = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    std::size_t eq = option.find('=');
    std::string_view name = option.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : option.substr(eq + 1);
    std::int64_t n = 0;
    if (name == "max-txn-ops") {
      NL_RETURN_IF_ERROR(parseNumberOption(name, value, 16, 100000, n));
      t.max_txn_ops = static_cast<int>(n);
    } else if (name == "log-hours") {
      NL_RETURN_IF_ERROR(parseNumberOption(name, value, 1, 24 * 3650, n));
      t.log_hours = n;
    } else if (name == "history" && !value.empty()) {
      t.history_path = std::string(value);
    } else {
      return Status::invalidArgument(
          "store: \"?" + std::string(option) +
          "\": the options are max-txn-ops=N (16 to 100000, the cluster's --max-txn-ops), "
          "history=PATH (this replica's history archive) and log-hours=N (how long etcd keeps "
          "events)");
    }
  }
  return Status::ok();
}

}  // namespace

Result<EtcdTarget> parseEtcdUrl(const std::string& scheme, const std::string& location) {
  EtcdTarget t;
  t.tls = scheme == "etcds";
  std::string_view rest = location;
  if (rest.rfind("//", 0) != 0) {
    return Status::invalidArgument("store: " + scheme +
                                   ": wants //HOST:PORT[,HOST:PORT...][/PREFIX]");
  }
  rest.remove_prefix(2);
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    NL_RETURN_IF_ERROR(parseStoreOptions(rest.substr(q + 1), t));
    rest = rest.substr(0, q);
  }
  std::size_t slash = rest.find('/');
  std::string_view hosts = rest.substr(0, slash);
  std::string prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  t.prefix = "/" + (prefix.empty() ? std::string("netledger") : prefix) + "/";
  while (!hosts.empty()) {
    std::size_t comma = hosts.find(',');
    std::string_view host = hosts.substr(0, comma);
    std::size_t colon = host.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == host.size()) {
      return Status::invalidArgument("store: \"" + std::string(host) +
                                     "\" is not HOST:PORT (an etcd client endpoint)");
    }
    t.endpoints.emplace_back(host);
    hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
  }
  if (t.endpoints.empty())
    return Status::invalidArgument("store: " + scheme + ": no endpoint given");
  return t;
}

struct EtcdClient::Connection {
  std::size_t endpoint = 0;
  std::unique_ptr<httpclient::HttpClient> http;
};

EtcdClient::EtcdClient(EtcdTarget target, EtcdCredentials creds)
    : target_(std::move(target)), creds_(std::move(creds)) {}

EtcdClient::~EtcdClient() = default;

Result<std::unique_ptr<EtcdClient>> EtcdClient::connect(EtcdTarget target, EtcdCredentials creds) {
  std::unique_ptr<EtcdClient> client(new EtcdClient(std::move(target), std::move(creds)));
  // One round trip now, so a wrong address or password fails at start-up, not at first write.
  auto probe = client->range(client->target_.prefix + "meta/", "", 1);
  if (!probe) return probe.status().withContext("etcd at " + client->target_.endpoints[0]);
  return client;
}

std::unique_ptr<EtcdClient::Connection> EtcdClient::borrow() {
  std::lock_guard lock(mu_);
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  auto c = std::make_unique<Connection>();
  c->endpoint = preferred_;
  return c;
}

void EtcdClient::giveBack(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 8) idle_.push_back(std::move(c));
}

Status EtcdClient::authenticate(Connection& c) {
  json::object body{{"name", creds_.user}, {"password", creds_.password}};
  httpclient::HttpRequest req{"POST", "/v3/auth/authenticate", {}, json::serialize(body)};
  auto res = c.http->send(req);
  if (!res) return res.status();
  if (res->status != 200) return errorFromEtcd(res->status, res->body).withContext("etcd login");
  auto o = parseObject(res->body);
  if (!o) return o.status();
  std::lock_guard lock(mu_);
  token_ = stringOf(*o, "token");
  return Status::ok();
}

Result<std::string> EtcdClient::callOn(Connection& c, const std::string& path,
                                       const std::string& body) {
  if (!c.http) {
    httpclient::HttpClientOptions options;
    options.ca_file = creds_.ca_file;
    options.cert_file = creds_.cert_file;
    options.key_file = creds_.key_file;
    options.connect_timeout = std::chrono::milliseconds(2000);
    // A member that hangs (SIGSTOP, a stuck disk) must cost seconds, not the default 15: the
    // next member takes the request (a resent transaction is recognised, etcd_txn.cc).
    options.request_timeout = std::chrono::milliseconds(3000);
    std::string url = (target_.tls ? "https://" : "http://") + target_.endpoints[c.endpoint];
    auto http = httpclient::HttpClient::create(url, options);
    if (!http) return http.status();
    c.http = std::move(*http);
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string token;
    if (!creds_.user.empty()) {
      {
        std::lock_guard lock(mu_);
        token = token_;
      }
      if (token.empty()) {
        NL_RETURN_IF_ERROR(authenticate(c));
        std::lock_guard lock(mu_);
        token = token_;
      }
    }
    httpclient::HttpRequest req{"POST", path, {}, body};
    if (!token.empty()) req.headers.push_back({"Authorization", token});
    auto res = c.http->send(req);
    if (!res) return res.status();
    if (res->status == 200) return std::move(res->body);
    Status error = errorFromEtcd(res->status, res->body);
    if (creds_.user.empty() || !isAuthError(error) || attempt == 1) return error;
    std::lock_guard lock(mu_);  // the token expired: log in again once
    token_.clear();
  }
  return Status::unavailable("etcd: unreachable");
}

namespace {

// etcd's answers while the cluster elects a leader or catches up: worth the same request again
// shortly (on any member), not an error for the caller.
bool isTransient(const Status& s) {
  const std::string& m = s.message();
  return s.code() == StatusCode::kUnavailable && m.rfind("etcd: ", 0) == 0 &&
         (m.find("leader") != std::string::npos || m.find("timed out") != std::string::npos ||
          m.find("too many requests") != std::string::npos ||
          m.find("not capable") != std::string::npos);
}

}  // namespace

void EtcdClient::preferEndpoint(std::size_t i) {
  std::lock_guard lock(mu_);
  preferred_ = i % target_.endpoints.size();
  idle_.clear();  // connected to the member before
}

Result<std::string> EtcdClient::call(const std::string& path, const std::string& body) {
  // An election takes about a second (etcd's default election timeout); ride it out.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {
    auto r = callOnce(path, body);
    if (!isTransient(r.status()) || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::string> EtcdClient::callOnce(const std::string& path, const std::string& body) {
  auto c = borrow();
  Status last;
  for (std::size_t tried = 0; tried < target_.endpoints.size(); ++tried) {
    auto r = callOn(*c, path, body);
    if (r.isOk() || r.status().code() != StatusCode::kUnavailable ||
        r.status().message().rfind("etcd: ", 0) == 0) {
      giveBack(std::move(c));
      return r;
    }
    last = r.status();
    // Unreachable: the next member, and the next borrower starts there too.
    c->http.reset();
    c->endpoint = (c->endpoint + 1) % target_.endpoints.size();
    std::lock_guard lock(mu_);
    preferred_ = c->endpoint;
  }
  return Status::unavailable("no etcd endpoint answered: " + last.message());
}

Result<RangeResult> EtcdClient::range(const std::string& key, const std::string& range_end,
                                      std::int64_t limit, std::int64_t revision, bool descending) {
  json::object req{{"key", base64(key)}};
  if (!range_end.empty()) req["range_end"] = base64(range_end);
  if (limit > 0) req["limit"] = std::to_string(limit);
  if (revision > 0) req["revision"] = std::to_string(revision);
  if (descending) {
    req["sort_order"] = "DESCEND";
    req["sort_target"] = "KEY";
  }
  return rangeRequest(json::serialize(req));
}

Result<RangeResult> EtcdClient::rangeModifiedSince(const std::string& key,
                                                   const std::string& range_end,
                                                   std::int64_t min_mod_revision,
                                                   std::int64_t limit) {
  json::object req{{"key", base64(key)}, {"range_end", base64(range_end)}};
  req["min_mod_revision"] = std::to_string(min_mod_revision);
  req["sort_order"] = "ASCEND";
  req["sort_target"] = "MOD";
  if (limit > 0) req["limit"] = std::to_string(limit);
  return rangeRequest(json::serialize(req));
}

Result<RangeResult> EtcdClient::rangeRequest(const std::string& request) {
  auto body = call("/v3/kv/range", request);
  if (!body) return body.status();
  auto o = parseObject(*body);
  if (!o) return o.status();
  RangeResult out;
  out.revision = int64Of(objectOr(*o, "header"), "revision");
  if (const json::value* more = o->if_contains("more"); more != nullptr && more->is_bool()) {
    out.more = more->as_bool();
  }
  if (const json::value* kvs = o->if_contains("kvs"); kvs != nullptr && kvs->is_array()) {
    for (const json::value& kv : kvs->as_array()) {
      if (!kv.is_object()) continue;
      auto parsed = keyValueOf(kv.as_object());
      if (!parsed) return parsed.status();
      out.kvs.push_back(std::move(*parsed));
    }
  }
  return out;
}

Result<RangeResult> EtcdClient::rangeAll(const std::string& key, const std::string& range_end,
                                         std::int64_t page, std::int64_t revision) {
  RangeResult all;
  all.revision = revision;
  std::string from = key;
  while (true) {
    auto r = range(from, range_end, page, all.revision);
    if (!r) return r.status();
    if (all.revision == 0) all.revision = r->revision;
    for (auto& kv : r->kvs) all.kvs.push_back(std::move(kv));
    if (!r->more || all.kvs.empty()) return all;
    from = all.kvs.back().key + '\0';
  }
}

Result<TxnResult> EtcdClient::txn(const std::vector<Compare>& compares,
                                  const std::vector<TxnOp>& ops) {
  json::array cmp;
  for (const Compare& c : compares) {
    cmp.push_back(json::object{{"key", base64(c.key)},
                               {"target", compareTarget(c.target)},
                               {"result", c.op == Compare::Op::kLess ? "LESS" : "EQUAL"},
                               {compareField(c.target), std::to_string(c.value)}});
  }
  json::array success;
  for (const TxnOp& op : ops) {
    if (op.is_delete) {
      json::object del{{"key", base64(op.key)}};
      if (!op.range_end.empty()) del["range_end"] = base64(op.range_end);
      success.push_back(json::object{{"request_delete_range", std::move(del)}});
    } else {
      json::object put{{"key", base64(op.key)}, {"value", base64(op.value)}};
      if (op.lease != 0) put["lease"] = std::to_string(op.lease);
      success.push_back(json::object{{"request_put", std::move(put)}});
    }
  }
  json::array failure;  // read back every compared key, to name the one that failed
  for (const Compare& c : compares) {
    failure.push_back(json::object{{"request_range", {{"key", base64(c.key)}}}});
  }
  json::object req{{"compare", std::move(cmp)},
                   {"success", std::move(success)},
                   {"failure", std::move(failure)}};
  auto body = call("/v3/kv/txn", json::serialize(req));
  if (!body) return body.status();
  auto o = parseObject(*body);
  if (!o) return o.status();
  TxnResult out;
  out.revision = int64Of(objectOr(*o, "header"), "revision");
  if (const json::value* ok = o->if_contains("succeeded"); ok != nullptr && ok->is_bool()) {
    out.succeeded = ok->as_bool();
  }
  const json::value* responses = o->if_contains("responses");
  if (out.succeeded || responses == nullptr || !responses->is_array()) return out;
  for (const json::value& r : responses->as_array()) {
    const json::value* kvs =
        r.is_object() ? objectOr(r.as_object(), "response_range").if_contains("kvs") : nullptr;
    if (kvs == nullptr || !kvs->is_array() || kvs->as_array().empty() ||
        !kvs->as_array()[0].is_object()) {
      out.current.emplace_back();
      continue;
    }
    auto kv = keyValueOf(kvs->as_array()[0].as_object());
    if (!kv) return kv.status();
    out.current.emplace_back(std::move(*kv));
  }
  return out;
}

Result<std::int64_t> EtcdClient::grantLease(std::int64_t ttl_s) {
  auto body =
      call("/v3/lease/grant", json::serialize(json::object{{"TTL", std::to_string(ttl_s)}}));
  if (!body) return body.status();
  auto o = parseObject(*body);
  if (!o) return o.status();
  std::int64_t id = int64Of(*o, "ID");
  if (id == 0) return Status::unavailable("etcd: lease grant answered no lease id");
  return id;
}

Result<std::int64_t> EtcdClient::keepAlive(std::int64_t lease) {
  // A stream in gRPC; through the gateway one request gets one answer.
  auto body =
      call("/v3/lease/keepalive", json::serialize(json::object{{"ID", std::to_string(lease)}}));
  if (!body) return body.status();
  auto o = parseObject(*body);
  if (!o) return o.status();
  if (o->contains("error")) return Status::unavailable("etcd keepalive: " + *body);
  return int64Of(objectOr(*o, "result"), "TTL");
}

Status EtcdClient::revokeLease(std::int64_t lease) {
  auto body =
      call("/v3/lease/revoke", json::serialize(json::object{{"ID", std::to_string(lease)}}));
  return body.status();
}

Status EtcdClient::compact(std::int64_t revision) {
  auto body = call("/v3/kv/compaction",
                   json::serialize(json::object{{"revision", std::to_string(revision)}}));
  return body.status();
}

namespace {

// One line of the watch stream: {"result": {...}} or {"error": {...}}.
Result<WatchBatch> parseWatchLine(std::string_view line) {
  auto o = parseObject(line);
  if (!o) return o.status();
  if (o->contains("error"))
    return Status::unavailable("etcd watch: " + json::serialize((*o)["error"]));
  const json::object& result = objectOr(*o, "result");
  WatchBatch batch;
  batch.revision = int64Of(objectOr(result, "header"), "revision");
  batch.compact_revision = int64Of(result, "compact_revision");
  if (const json::value* events = result.if_contains("events");
      events != nullptr && events->is_array()) {
    for (const json::value& e : events->as_array()) {
      if (!e.is_object()) continue;
      WatchEvent ev;
      ev.is_delete = stringOf(e.as_object(), "type") == "DELETE";
      auto kv = keyValueOf(objectOr(e.as_object(), "kv"));
      if (!kv) return kv.status();
      ev.kv = std::move(*kv);
      batch.events.push_back(std::move(ev));
    }
  }
  return batch;
}

}  // namespace

Status EtcdClient::watch(const std::string& key, const std::string& range_end,
                         std::int64_t start_revision,
                         const std::function<bool(const WatchBatch&)>& on_batch) {
  Connection c;
  {
    std::lock_guard lock(mu_);
    c.endpoint = preferred_;
  }
  // A unary call first: it opens the connection (and logs in) the stream then uses.
  auto probe = callOn(c, "/v3/kv/range",
                      json::serialize(json::object{{"key", base64(key)}, {"limit", "1"}}));
  if (!probe) {
    std::lock_guard lock(mu_);
    preferred_ = (c.endpoint + 1) % target_.endpoints.size();
    return probe.status();
  }
  json::object create{{"key", base64(key)},
                      {"range_end", base64(range_end)},
                      {"start_revision", std::to_string(start_revision)},
                      {"progress_notify", true}};
  httpclient::HttpRequest req{"POST",
                              "/v3/watch",
                              {},
                              json::serialize(json::object{{"create_request", std::move(create)}})};
  {
    std::lock_guard lock(mu_);
    if (!token_.empty()) req.headers.push_back({"Authorization", token_});
  }
  {
    std::lock_guard lock(watch_mu_);
    if (watch_stopped_) return Status::unavailable("watch stopped");
    watching_ = &c;
  }
  std::string buffer;
  Status failed;
  auto on_data = [&](std::string_view data) {
    buffer.append(data);
    std::size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (line.empty()) continue;
      auto batch = parseWatchLine(line);
      if (!batch) {
        failed = batch.status();
        return false;
      }
      if (!on_batch(*batch)) return false;
    }
    return true;
  };
  auto status = c.http->stream(req, on_data, std::chrono::minutes(15));
  {
    std::lock_guard lock(watch_mu_);
    watching_ = nullptr;
  }
  if (!failed.isOk()) return failed;
  if (!status) return status.status();
  return Status::unavailable("etcd watch ended (HTTP " + std::to_string(*status) + ")");
}

void EtcdClient::breakWatch() {
  {
    std::lock_guard lock(mu_);
    preferred_ = (preferred_ + 1) % target_.endpoints.size();
  }
  std::lock_guard lock(watch_mu_);
  if (watching_ != nullptr && watching_->http) watching_->http->abortStream();
}

Result<std::int64_t> EtcdClient::latestModRevision(const std::string& key,
                                                   const std::string& range_end) {
  json::object req{{"key", base64(key)},   {"range_end", base64(range_end)},
                   {"limit", "1"},         {"sort_order", "DESCEND"},
                   {"sort_target", "MOD"}, {"keys_only", true}};
  auto body = call("/v3/kv/range", json::serialize(req));
  if (!body) return body.status();
  auto o = parseObject(*body);
  if (!o) return o.status();
  const json::value* kvs = o->if_contains("kvs");
  if (kvs == nullptr || !kvs->is_array() || kvs->as_array().empty() ||
      !kvs->as_array()[0].is_object()) {
    return std::int64_t{0};
  }
  return int64Of(kvs->as_array()[0].as_object(), "mod_revision");
}

void EtcdClient::stopWatch() {
  std::lock_guard lock(watch_mu_);
  watch_stopped_ = true;
  if (watching_ != nullptr && watching_->http) watching_->http->abortStream();
}

}  // namespace netledger::store::etcd
