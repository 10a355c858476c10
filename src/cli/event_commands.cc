// `netledger events`: follows the server's /v1/events stream live, like `kubectl get -w` or
// `journalctl -f`. A lost connection is resumed from the last event seen (Last-Event-ID), so
// nothing is missed or printed twice; Ctrl-C ends it cleanly (exit 0).
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"
#include "httpclient/sse.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

using namespace std::chrono_literals;

struct EventArgs {
  std::string types, since;
  long long count = 0;
};

// Set by SIGINT/SIGTERM while a stream is followed; std::atomic<bool> is lock-free, so the
// handler may touch it.
std::atomic<bool> g_interrupted{false};
extern "C" void onInterrupt(int) { g_interrupted.store(true); }

// Catches Ctrl-C for the life of the command and gives the previous handlers back afterwards
// (tests run the CLI in-process).
class InterruptScope {
 public:
  InterruptScope() {
    g_interrupted = false;
    struct sigaction sa {};
    sa.sa_handler = onInterrupt;
    sa.sa_flags = SA_RESTART;  // a write to stdout is not cut short: the watcher ends the stream
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// One event as a line: time, type, subject, actor and the id to resume from (--since).
void printEventLine(std::ostream& out, const httpclient::SseEvent& e) {
  json::error_code ec;
  json::value v = json::parse(e.data, ec);
  if (ec) {
    out << e.event << "  " << e.data << '\n';
    return;
  }
  out << cellText(member(v, "time")) << "  " << e.event << "  " << cellText(member(v, "subject"))
      << "  actor=" << cellText(member(v, "actor")) << "  id=" << e.id << '\n';
}

// Sleeps `d` unless Ctrl-C comes first; true when it did.
bool sleepInterrupted(std::chrono::milliseconds d) {
  for (auto left = d; left > 0ms; left -= 50ms) {
    if (g_interrupted) return true;
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
  }
  return g_interrupted;
}

// Follows the stream until --count events, Ctrl-C, or a failure retrying cannot mend.
int follow(const ClientEnv& env, const EventArgs& a, std::ostream& out, std::ostream& err) {
  auto client = ApiClient::open(env.server);
  if (!client) return reportFailure(err, reportFromStatus(client.status()));
  std::string target = "/v1/events";
  if (!a.types.empty()) target += "?types=" + encodeQueryValue(a.types);
  InterruptScope interrupts;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      if (g_interrupted) (*client)->abortStream();
      std::this_thread::sleep_for(50ms);
    }
  });
  std::string last_id = a.since;
  long long seen = 0;
  auto backoff = 500ms;
  int code = kExitOk;
  while (!g_interrupted) {
    httpclient::SseParser parser([&](const httpclient::SseEvent& e) {
      if (a.count > 0 && seen >= a.count) return;
      ++seen;
      last_id = e.id;
      if (env.format == OutputFormat::kJson) {
        out << e.data << '\n';
      } else {
        printEventLine(out, e);
      }
      out.flush();
    });
    auto failure = (*client)->stream(
        target, last_id,
        [&](std::string_view bytes) {
          backoff = 500ms;
          return parser.feed(bytes) && (a.count == 0 || seen < a.count);
        },
        60s);
    if (g_interrupted || (a.count > 0 && seen >= a.count)) break;
    if (!parser.ok()) {
      // Reconnecting would read the same oversized event again.
      err << "netledger: event stream: an event line over 1 MiB after id "
          << (last_id.empty() ? std::string("(none)") : last_id) << '\n';
      code = kExitFailure;
      break;
    }
    if (failure && !failure->retryable) {
      code = reportFailure(err, failure->report);
      break;
    }
    err << "netledger: event stream " << (failure ? "lost: " + failure->report.message : "ended")
        << "; resuming" << (last_id.empty() ? "" : " after " + last_id) << '\n';
    if (sleepInterrupted(backoff)) break;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  done = true;
  watcher.join();
  return code;
}

}  // namespace

void addEventCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<EventArgs>();
  auto* events = app.add_subcommand(
      "events", "Follow the ledger's events live (resumes after a reconnect; Ctrl-C ends)");
  events->add_option("--types", a->types,
                     "Only these types, comma-separated (binding.allocate, pool.*, conflict.*)");
  events->add_option("--since", a->since, "Replay the events after this id first (see id=)")
      ->check(CLI::NonNegativeNumber);
  events->add_option("--count", a->count, "Stop after this many events")
      ->check(CLI::PositiveNumber);
  events->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return follow(*env, *a, out, err);
    };
  });
}

}  // namespace netledger::cli
