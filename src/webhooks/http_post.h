#pragma once
// Internal: the webhook dispatcher's HTTP client. Asynchronous POSTs over http and https
// (Boost.Beast, Boost.URL and OpenSSL stay in http_post.cc), each bounded by one deadline that
// covers name resolution, connecting, the TLS handshake, sending and the response header.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace netledger::webhooks {

// A parsed http(s) URL, ready to connect to.
struct PostTarget {
  bool tls = false;
  std::string host;        // name or IP literal, without brackets
  std::string port;        // always set ("80"/"443" by default)
  std::string hostHeader;  // "host[:port]", brackets for IPv6
  std::string target;      // origin-form: "/path?query", at least "/"
};

// invalid_argument naming the problem for anything but an absolute http(s) URL with a host.
Result<PostTarget> parsePostUrl(std::string_view url);

struct PostResult {
  unsigned status = 0;  // the response status; 0 when none arrived
  std::string error;    // why there is no response (or the status line when not 2xx)
  std::chrono::milliseconds retryAfter{0};  // a Retry-After in seconds; 0 when absent
  double durationMs = 0;
};

struct PosterOptions {
  std::size_t threads = 2;
  std::chrono::milliseconds timeout{5000};
  bool insecureTls = false;
  std::string caFile;
};

class HttpPoster {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // Starts the I/O threads.
  explicit HttpPoster(PosterOptions options);
  ~HttpPoster();  // stop()
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  // POSTs `body` with `headers` (plus Host, Content-Length and Connection: close). `done` runs
  // exactly once on an I/O thread with the outcome, unless stop() comes first (then never).
  // Thread-safe; never blocks.
  void post(const PostTarget& target, Headers headers, std::shared_ptr<const std::string> body,
            std::function<void(PostResult)> done);

  // Abandons requests in flight (their `done` never runs) and joins the I/O threads; returns
  // once any `done` already running has returned. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netledger::webhooks
