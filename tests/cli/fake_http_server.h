#pragma once
// A scripted HTTP/1.1 server on 127.0.0.1:0 for the CLI's client tests: it records every
// request and answers each with what the test's handler returns, so the HTTP client and the
// commands' request building, output and exit codes are tested without netledgerd. (The
// end-to-end CLI tests against the real server live elsewhere.)
//
// One connection at a time, like the CLI uses it. A handler returning "" leaves the request
// unanswered (for timeout tests); a response carrying "Connection: close" closes the connection.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace netledger::cli::testing {

struct SeenRequest {
  int connection = 0;  // 0-based index of the TCP connection it came on
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline std::string httpResponse(unsigned status, const std::string& content_type,
                                const std::string& body, bool close = false) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  if (!content_type.empty()) r += "Content-Type: " + content_type + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) r += "Connection: close\r\n";
  return r + "\r\n" + body;
}

inline std::string jsonResponse(unsigned status, const std::string& body) {
  return httpResponse(status, "application/json", body);
}

inline std::string problemResponse(unsigned status, const std::string& code,
                                   const std::string& detail) {
  return httpResponse(status, "application/problem+json",
                      "{\"type\":\"urn:netledger:error:" + code +
                          "\",\"title\":\"t\",\"status\":" + std::to_string(status) +
                          ",\"code\":\"" + code + "\",\"detail\":\"" + detail + "\"}");
}

class FakeHttpServer {
 public:
  using Handler = std::function<std::string(const SeenRequest&)>;

  explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~FakeHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }

  std::vector<SeenRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  bool waitReadable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  void run() {
    while (waitReadable(listen_fd_)) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      serve(fd, connections_++);
      ::close(fd);
    }
  }

  // Parses one complete request off the front of `buf`, if there is one.
  static bool takeRequest(std::string& buf, SeenRequest& req) {
    auto end = buf.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::string head = buf.substr(0, end);
    std::size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.rfind(' ');
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(pos, next - pos);
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers[name] = value;
      pos = next + 2;
    }
    std::size_t length =
        req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
    if (buf.size() < end + 4 + length) return false;
    req.body = buf.substr(end + 4, length);
    buf.erase(0, end + 4 + length);
    return true;
  }

  void serve(int fd, int connection) {
    std::string buf;
    char chunk[4096];
    while (waitReadable(fd)) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<std::size_t>(n));
      SeenRequest req;
      while (takeRequest(buf, req)) {
        req.connection = connection;
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(req);
        }
        std::string response = handler_(req);
        if (response.empty()) continue;  // leave it unanswered
        ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
        if (response.find("Connection: close") != std::string::npos) return;
        req = SeenRequest();
      }
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::mutex mu_;
  std::vector<SeenRequest> requests_;
};

}  // namespace netledger::cli::testing
