#pragma once
// End-to-end harness: runs the real netledgerd binary as a child process on loopback and talks
// to it over TCP with a small synchronous HTTP/1.1 keep-alive client. Nothing here links the
// server libraries: what the tests see is exactly what a client over the wire sees.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace netledger::it {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// HTTP client

struct HttpResponse {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  // The header's value, "" when absent (name is case-insensitive).
  std::string header(std::string_view name) const;
  // The body as JSON; throws std::runtime_error (with the body) when it does not parse.
  json::value json() const;
  // "STATUS BODY" for assertion messages.
  std::string describe() const;
};

// One keep-alive connection to 127.0.0.1:port. Reconnects lazily when the server closed the
// connection after a response (Connection: close); never retries a request that failed.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::string token = "");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void setToken(std::string token) { token_ = std::move(token); }
  const std::string& token() const { return token_; }
  void setPort(std::uint16_t port);

  using Headers = std::vector<std::pair<std::string, std::string>>;
  // Throws std::runtime_error on a transport error (refused, reset, timeout, bad framing).
  HttpResponse request(std::string_view method, std::string_view target, std::string_view body = {},
                       const Headers& headers = {});
  // The same, without throwing: nullopt on a transport error, described in *error.
  std::optional<HttpResponse> tryRequest(std::string_view method, std::string_view target,
                                         std::string_view body, const Headers& headers,
                                         std::string* error);

  HttpResponse get(std::string_view target) { return request("GET", target); }
  HttpResponse del(std::string_view target) { return request("DELETE", target); }
  HttpResponse post(std::string_view target, const json::value& body) {
    return request("POST", target, json::serialize(body));
  }
  HttpResponse patch(std::string_view target, const json::value& body) {
    return request("PATCH", target, json::serialize(body));
  }

  // Connections opened so far (keep-alive: stays 1 while the server keeps the connection).
  int connects() const { return connects_; }
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_;
  std::string token_;
  int connects_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The server process

class Server {
 public:
  // Creates a fresh data directory (mkdtemp under /tmp); start() runs the daemon on it.
  Server();
  // Kills a still running daemon and removes the directory (kept when NETLEDGER_IT_KEEP is set).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts netledgerd (--listen 127.0.0.1:0 --port-file) and waits, bounded, for /readyz to
  // answer 200. Throws std::runtime_error (with the server log) when it does not come up.
  void start();
  // SIGTERM, then waits (bounded) for the exit; returns the exit status (0: clean). On timeout
  // it SIGKILLs and throws.
  int stop();
  // SIGKILL at once (a crash); waits for the process to be gone.
  void kill9();
  // Sends SIGTERM without waiting; wait() collects the exit status.
  void sendTerm();
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // stop() then start() on the same data directory.
  void restart();
  // Later start()s listen on the port this run got, so clients can reconnect to the same URL.
  void keepPort() { listen_ = "127.0.0.1:" + std::to_string(port_); }
  // More netledgerd flags for the next start() ("--store", "etcd://...").
  void setExtraArgs(std::vector<std::string> args) { extra_args_ = std::move(args); }
  // The admin secret this server's clients use: replicas of one store share the first one's.
  void setAdminToken(std::string token) { admin_token_ = std::move(token); }

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  const std::string& adminToken() const { return admin_token_; }
  const std::string& root() const { return root_; }
  std::string dataDir() const { return root_ + "/data"; }
  std::string log() const;  // the daemon's stdout and stderr, every run appended
  int starts() const { return starts_; }

  // A client with the admin token.
  std::unique_ptr<HttpClient> client() const;
  std::unique_ptr<HttpClient> client(const std::string& token) const;

 private:
  std::string root_;
  std::string admin_token_;
  std::vector<std::string> extra_args_;
  std::string listen_ = "127.0.0.1:0";
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int starts_ = 0;
};

// The daemon binary: $NETLEDGERD, else the path CMake compiled in.
std::string netledgerdPath();
// The `netledger` CLI binary, for tests that need it as a process (signals, stdin).
std::string netledgerCliPath();

// ---------------------------------------------------------------------------------------------
// JSON helpers

json::value parseJson(std::string_view text);
// A JSON object from an initializer list, e.g. obj({{"name", "p1"}, {"cidr", "192.0.2.0/24"}}).
inline json::value obj(std::initializer_list<std::pair<json::string_view, json::value_ref>> kv) {
  return json::value(json::object(kv));
}
// o[key] as a string: "" for null or absent; throws when it is another type.
std::string str(const json::value& v, std::string_view key);
// o[key] as an integer (accepts JSON numbers and decimal strings such as utilization counts).
std::int64_t num(const json::value& v, std::string_view key);
// o[key] as an array of strings.
std::vector<std::string> strings(const json::value& v, std::string_view key);
// o["items"].
const json::array& items(const json::value& v);

// Percent-encodes a query or path component.
std::string urlEncode(std::string_view s);

// "2026-11-21T14:00:00.123Z" -> unix milliseconds; throws when malformed.
std::int64_t parseTimeMs(std::string_view text);
// Unix milliseconds -> "2026-11-21T14:00:00.123Z".
std::string formatTimeMs(std::int64_t ms);

// ---------------------------------------------------------------------------------------------
// Assertions

// `r` is an RFC 9457 problem: the status, application/problem+json, `code` and a `detail`
// that contains `detail_part` (e.g. the field name).
::testing::AssertionResult isProblem(const HttpResponse& r, unsigned status, std::string_view code,
                                     std::string_view detail_part = {});

// ---------------------------------------------------------------------------------------------
// Fixture: one fresh daemon per test, with an admin client.

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // POST that must answer `expect`; returns the JSON body.
  json::value mustPost(std::string_view target, const json::value& body, unsigned expect = 201);
  json::value mustGet(std::string_view target, unsigned expect = 200);
  json::value createPool(const json::value& body) { return mustPost("/v1/pools", body); }
  json::value allocate(const json::value& body, unsigned expect = 201) {
    return mustPost("/v1/bindings", body, expect);
  }
  // Creates a token and returns its secret.
  std::string createToken(std::string_view name, std::string_view role,
                          std::vector<std::string> tenants = {});
  // Every binding visible to `client`, following next_cursor with `page_size`.
  std::vector<json::value> allBindings(HttpClient& client, std::size_t page_size = 1000,
                                       std::string_view filter = {});
  // A snapshot of everything observable (pools, MAC pools, bindings, tokens, last audit event):
  // equal fingerprints mean no state changed.
  std::string fingerprint();

  Server server_;
  std::unique_ptr<HttpClient> api_;
};

// One server-sent event as /v1/events frames it.
struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
  friend bool operator==(const SseEvent&, const SseEvent&) = default;
};

// Reads /v1/events?types=`types` (all when empty) from 127.0.0.1:`port` over a raw socket,
// resuming after `last_event_id` when given, until `want` events arrived or 10 s passed.
std::vector<SseEvent> readSseEvents(std::uint16_t port, const std::string& token,
                                    const std::string& types, const std::string& last_event_id,
                                    std::size_t want);

}  // namespace netledger::it
