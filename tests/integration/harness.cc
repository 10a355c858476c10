#include "integration/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

extern char** environ;

namespace netledger::it {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Every netledgerd response the suite reads is appended to <dir>/<pid>.jsonl when the
// directory exists (ctest creates it): tests/contract/responses_test.mjs then checks each one
// against docs/api/openapi.json, so the document and the server cannot drift apart.
void recordForContract(std::string_view method, std::string_view target, const HttpResponse& r) {
#ifdef NETLEDGER_RESPONSES_DIR
  static const bool enabled = std::filesystem::is_directory(NETLEDGER_RESPONSES_DIR);
  if (!enabled) return;
  auto server = r.headers.find("server");
  if (server == r.headers.end() || server->second != "netledgerd") return;
  auto type = r.headers.find("content-type");
  boost::json::object o;
  o["method"] = method;
  o["target"] = target;
  o["status"] = r.status;
  o["content_type"] = type == r.headers.end() ? "" : type->second;
  o["body"] = r.body.size() <= (1u << 20) ? r.body : std::string();
  o["truncated"] = r.body.size() > (1u << 20);
  static std::mutex mu;
  static std::ofstream out(
      std::string(NETLEDGER_RESPONSES_DIR) + "/" + std::to_string(::getpid()) + ".jsonl",
      std::ios::app);
  std::lock_guard lock(mu);
  out << boost::json::serialize(o) << '\n' << std::flush;
#else
  (void)method, (void)target, (void)r;
#endif
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string randomHex(std::size_t bytes) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    unsigned b = rd() & 0xff;
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string tail(const std::string& text, std::size_t lines) {
  std::size_t start = text.size(), seen = 0;
  while (start > 0) {
    std::size_t nl = text.rfind('\n', start - 1);
    if (nl == std::string::npos) return text;
    if (nl + 1 < text.size() && ++seen >= lines) return text.substr(nl + 1);
    start = nl;
  }
  return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpResponse

std::string HttpResponse::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

json::value HttpResponse::json() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec)
    throw std::runtime_error("response body is not JSON (" + ec.message() + "): " + describe());
  return v;
}

std::string HttpResponse::describe() const {
  std::string shown = body.size() > 600 ? body.substr(0, 600) + "..." : body;
  return std::to_string(status) + " " + shown;
}

// ---------------------------------------------------------------------------------------------
// HttpClient

struct HttpClient::Impl {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;
};

HttpClient::HttpClient(std::uint16_t port, std::string token)
    : impl_(std::make_unique<Impl>()), port_(port), token_(std::move(token)) {}

HttpClient::~HttpClient() { close(); }

void HttpClient::setPort(std::uint16_t port) {
  close();
  port_ = port;
}

void HttpClient::close() {
  if (!impl_->open) return;
  beast::error_code ec;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  impl_->stream.close();
  impl_->buffer.clear();
  impl_->open = false;
}

std::optional<HttpResponse> HttpClient::tryRequest(std::string_view method, std::string_view target,
                                                   std::string_view body, const Headers& headers,
                                                   std::string* error) {
  try {
    return request(method, target, body, headers);
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 std::string_view body, const Headers& headers) {
  auto& s = impl_->stream;
  const std::string what = std::string(method) + " " + std::string(target);
  if (!impl_->open) {
    beast::error_code ec;
    s.expires_after(10s);
    s.connect(tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), port_), ec);
    if (ec) {
      s.close();
      throw std::runtime_error(what + ": connect to 127.0.0.1:" + std::to_string(port_) + ": " +
                               ec.message());
    }
    s.socket().set_option(tcp::no_delay(true), ec);
    impl_->buffer.clear();
    impl_->open = true;
    ++connects_;
  }

  bhttp::request<bhttp::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  req.set(bhttp::field::user_agent, "netledger-integration-test");
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = std::string(body);
  req.keep_alive(true);
  req.prepare_payload();

  beast::error_code write_ec, ec;
  s.expires_after(30s);
  bhttp::write(s, req, write_ec);
  // A server may answer early and stop reading (413): try to read that answer before giving
  // up on a failed write.
  bhttp::response_parser<bhttp::string_body> parser;
  parser.skip(method == "HEAD");  // its Content-Length announces a body that never comes
  parser.body_limit(512ull * 1024 * 1024);
  parser.header_limit(64 * 1024);
  s.expires_after(30s);
  bhttp::read(s, impl_->buffer, parser, ec);
  if (ec) {
    close();
    throw std::runtime_error(what + ": " + (write_ec ? "write: " + write_ec.message() + ", " : "") +
                             "read: " + ec.message());
  }
  auto res = parser.release();
  HttpResponse out;
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name = lower(std::string(f.name_string()));
    std::string value(f.value());
    auto [it, inserted] = out.headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }
  out.body = std::move(res.body());
  recordForContract(method, target, out);
  if (!res.keep_alive() || write_ec) close();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server

std::string netledgerCliPath() {
#ifdef NETLEDGER_CLI_PATH
  return NETLEDGER_CLI_PATH;
#else
  return "netledger";
#endif
}

std::string netledgerdPath() {
  if (const char* p = std::getenv("NETLEDGERD"); p && *p) return p;
#ifdef NETLEDGERD_PATH
  return NETLEDGERD_PATH;
#else
  return "netledgerd";
#endif
}

Server::Server() {
  char tmpl[] = "/tmp/netledger-it-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  root_ = tmpl;
  admin_token_ = "it-admin-" + randomHex(16);
}

Server::~Server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- netledgerd log (" << root_ << "/server.log), last lines ----\n"
              << tail(log(), 40) << "---- end of log ----\n";
  }
  if (std::getenv("NETLEDGER_IT_KEEP")) {
    std::cerr << "kept " << root_ << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::string Server::log() const { return readFile(root_ + "/server.log"); }

void Server::start() {
  if (pid_ > 0) throw std::runtime_error("netledgerd is already running");
  const std::string port_file = root_ + "/port";
  std::filesystem::remove(port_file);
  std::filesystem::create_directories(dataDir());

  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls are allowed (the test process has threads).
  std::vector<std::string> args = {netledgerdPath(), "--listen",    listen_,  "--data-dir",
                                   dataDir(),        "--port-file", port_file};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "NETLEDGER_BOOTSTRAP_TOKEN=", 26) != 0) env.emplace_back(*e);
  }
  env.push_back("NETLEDGER_BOOTSTRAP_TOKEN=" + admin_token_);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int log_fd =
      ::open((root_ + "/server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) throw std::runtime_error(std::string("open log: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Die with the test process (the forking thread is the test's main thread).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close_range(3, ~0U, 0);  // no test sockets leak into the daemon
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  ++starts_;

  const auto deadline = std::chrono::steady_clock::now() + 20s;
  auto failed = [&](const std::string& why) {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
    }
    return std::runtime_error("netledgerd did not become ready: " + why + "\n---- log ----\n" +
                              tail(log(), 40));
  };
  port_ = 0;
  while (true) {
    if (std::chrono::steady_clock::now() > deadline) throw failed("timed out after 20 s");
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw failed(netledgerdPath() + " exited with " +
                   (WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status))));
    }
    if (port_ == 0) {
      std::ifstream in(port_file);
      unsigned p = 0;
      if (in >> p && p > 0 && p < 65536) port_ = static_cast<std::uint16_t>(p);
    }
    if (port_ != 0) {
      HttpClient probe(port_);
      std::string err;
      auto r = probe.tryRequest("GET", "/readyz", {}, {}, &err);
      if (r && r->status == 200) return;
    }
    std::this_thread::sleep_for(10ms);
  }
}

void Server::sendTerm() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
}

int Server::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) throw std::runtime_error("netledgerd is not running");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      throw std::runtime_error("netledgerd did not exit within " + std::to_string(timeout.count()) +
                               " ms; killed it");
    }
    std::this_thread::sleep_for(5ms);
  }
}

int Server::stop() {
  sendTerm();
  return wait();
}

void Server::kill9() {
  if (pid_ <= 0) throw std::runtime_error("netledgerd is not running");
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void Server::restart() {
  int status = stop();
  if (status != 0) throw std::runtime_error("netledgerd exited with " + std::to_string(status));
  start();
}

std::unique_ptr<HttpClient> Server::client() const { return client(admin_token_); }

std::unique_ptr<HttpClient> Server::client(const std::string& token) const {
  return std::make_unique<HttpClient>(port_, token);
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

json::value parseJson(std::string_view text) { return json::parse(text); }

std::string str(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  if (!o) throw std::runtime_error("not an object: " + json::serialize(v));
  auto it = o->find(key);
  if (it == o->end() || it->value().is_null()) return "";
  if (!it->value().is_string()) {
    throw std::runtime_error(std::string(key) + " is not a string: " + json::serialize(v));
  }
  return std::string(it->value().as_string());
}

std::int64_t num(const json::value& v, std::string_view key) {
  const auto& x = v.at(key);
  if (x.is_int64()) return x.as_int64();
  if (x.is_uint64()) return static_cast<std::int64_t>(x.as_uint64());
  if (x.is_string()) {
    std::size_t used = 0;
    std::string s(x.as_string());
    long long n = std::stoll(s, &used);
    if (used != s.size()) throw std::runtime_error(std::string(key) + " is not an integer: " + s);
    return n;
  }
  throw std::runtime_error(std::string(key) + " is not an integer: " + json::serialize(v));
}

std::vector<std::string> strings(const json::value& v, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& x : v.at(key).as_array()) out.emplace_back(x.as_string());
  return out;
}

const json::array& items(const json::value& v) { return v.at("items").as_array(); }

std::string urlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::int64_t parseTimeMs(std::string_view text) {
  std::tm tm{};
  int ms = 0, consumed = 0;
  std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &consumed) != 7 ||
      consumed != static_cast<int>(t.size())) {
    throw std::runtime_error("not a time: \"" + t + "\"");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + ms;
}

std::string formatTimeMs(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Assertions

::testing::AssertionResult isProblem(const HttpResponse& r, unsigned status, std::string_view code,
                                     std::string_view detail_part) {
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure() << why << "; response: " << r.describe();
  };
  if (r.status != status)
    return fail("status " + std::to_string(r.status) + ", expected " + std::to_string(status));
  if (r.header("Content-Type").rfind("application/problem+json", 0) != 0) {
    return fail("Content-Type \"" + r.header("Content-Type") +
                "\", expected application/problem+json");
  }
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return fail("body is not a JSON object");
  const auto& o = v.as_object();
  auto c = o.find("code");
  if (c == o.end() || !c->value().is_string() || c->value().as_string() != code) {
    return fail("code is not \"" + std::string(code) + "\"");
  }
  auto d = o.find("detail");
  if (d == o.end() || !d->value().is_string() || d->value().as_string().empty()) {
    return fail("no detail");
  }
  if (auto s = o.find("status");
      s == o.end() || !s->value().is_number() || s->value().to_number<unsigned>() != status) {
    return fail("\"status\" member does not match");
  }
  std::string detail(d->value().as_string());
  if (detail.find(detail_part) == std::string::npos) {
    return fail("detail does not contain \"" + std::string(detail_part) + "\"");
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// ServerTest

void ServerTest::SetUp() {
  server_.start();
  api_ = server_.client();
}

void ServerTest::TearDown() { api_.reset(); }

json::value ServerTest::mustPost(std::string_view target, const json::value& body,
                                 unsigned expect) {
  auto r = api_->post(target, body);
  if (r.status != expect) {
    throw std::runtime_error("POST " + std::string(target) + " " + json::serialize(body) +
                             ": expected " + std::to_string(expect) + ", got " + r.describe());
  }
  return r.json();
}

json::value ServerTest::mustGet(std::string_view target, unsigned expect) {
  auto r = api_->get(target);
  if (r.status != expect) {
    throw std::runtime_error("GET " + std::string(target) + ": expected " + std::to_string(expect) +
                             ", got " + r.describe());
  }
  return r.json();
}

std::string ServerTest::createToken(std::string_view name, std::string_view role,
                                    std::vector<std::string> tenants) {
  json::array t;
  for (auto& x : tenants) t.emplace_back(x);
  auto v = mustPost("/v1/tokens", obj({{"name", name}, {"role", role}, {"tenants", t}}));
  return str(v, "secret");
}

std::vector<json::value> ServerTest::allBindings(HttpClient& client, std::size_t page_size,
                                                 std::string_view filter) {
  std::vector<json::value> out;
  std::string cursor;
  for (int pages = 0; pages < 100000; ++pages) {
    std::string target = "/v1/bindings?limit=" + std::to_string(page_size);
    if (!filter.empty()) target += "&" + std::string(filter);
    if (!cursor.empty()) target += "&cursor=" + urlEncode(cursor);
    auto r = client.get(target);
    if (r.status != 200) throw std::runtime_error("GET " + target + ": " + r.describe());
    auto v = r.json();
    for (const auto& b : items(v)) out.push_back(b);
    cursor = str(v, "next_cursor");
    if (cursor.empty()) return out;
  }
  throw std::runtime_error("pagination did not end");
}

std::string ServerTest::fingerprint() {
  std::string f;
  for (const char* target : {"/v1/pools", "/v1/mac-pools", "/v1/bindings?limit=1000", "/v1/tokens",
                             "/v1/audit?limit=1"}) {
    auto r = api_->get(target);
    if (r.status != 200)
      throw std::runtime_error(std::string("GET ") + target + ": " + r.describe());
    f += r.body;
    f += '\n';
  }
  return f;
}

std::vector<SseEvent> readSseEvents(std::uint16_t port, const std::string& token,
                                    const std::string& types, const std::string& last_event_id,
                                    std::size_t want) {
  namespace bhttp = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::string req = "GET /v1/events" + (types.empty() ? std::string() : "?types=" + types) +
                    " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: "
                    "Bearer " +
                    token + "\r\n";
  if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
  req += "\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  boost::beast::error_code ec;
  bhttp::read_header(s, buffer, parser, ec);
  if (ec) throw std::runtime_error("events: " + ec.message());
  std::string text;
  std::vector<SseEvent> events;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  char chunk[4096];
  while (events.size() < want && std::chrono::steady_clock::now() < deadline) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    bhttp::read_some(s, buffer, parser, ec);
    if (ec && ec != bhttp::error::need_buffer) break;
    text.append(chunk, sizeof chunk - parser.get().body().size);
    std::size_t end;
    while ((end = text.find("\n\n")) != std::string::npos) {
      std::string block = text.substr(0, end);
      text.erase(0, end + 2);
      SseEvent e;
      std::size_t pos = 0;
      while (pos < block.size()) {
        std::size_t nl = block.find('\n', pos);
        std::string line =
            block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (line.rfind("id: ", 0) == 0) e.id = line.substr(4);
        if (line.rfind("event: ", 0) == 0) e.event = line.substr(7);
        if (line.rfind("data: ", 0) == 0) e.data = line.substr(6);
        pos = nl == std::string::npos ? block.size() : nl + 1;
      }
      if (!e.id.empty()) events.push_back(std::move(e));
    }
  }
  return events;
}

}  // namespace netledger::it
