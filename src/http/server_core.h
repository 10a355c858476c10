#pragma once
// Internal: the state a Server shares with its acceptor and connections. This header brings in
// Asio; only files in this folder include it.
//
// Lifetime rules (the subtle part of an asynchronous server):
//  - Each I/O thread runs its own io_context; a connection is bound to one for life, so all of
//    its handlers run on one thread and its state needs no locks.
//  - The registry below holds every open connection strongly: while a handler works on a
//    request no Asio operation is pending, so nothing else would keep the connection alive.
//  - A Responder holds only a weak reference to its connection, plus the DeliveryGate. A
//    Responder called from a foreign thread posts to the connection's io_context under the gate
//    mutex, and the server closes the gate before it destroys the io_contexts; so a Responder
//    that outlives the server never touches a destroyed io_context.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/http_metrics.h"
#include "http/server.h"

namespace netledger::http {

namespace net = boost::asio;

struct DeliveryGate {
  std::mutex mutex;
  bool open = true;  // false once the io_contexts may be gone
};

// The io_context the current thread is running, or null: lets a Responder called on its
// connection's own thread deliver inline, without the gate or a post.
inline thread_local const net::io_context* tRunningContext = nullptr;

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // All of these run on the connection's own thread (post them there).
  virtual void onServerStopping() = 0;  // close if idle; otherwise finish and then close
  virtual void forceClose() = 0;
  virtual void deliver(std::uint64_t sequence, Response&& response) = 0;
  // A streaming response's producer queued bytes or ended the stream (stream_channel.h).
  virtual void onStreamReady() = 0;

  virtual net::io_context& context() = 0;
};

struct Server::Core {
  Core(ServerOptions opts, Router r);

  void registerConnection(std::shared_ptr<ConnectionBase> connection);
  // The connection stopped serving requests (it may still be draining its socket).
  void deactivate();
  // The connection is closed; drops the registry's reference.
  void unregister(ConnectionBase* connection);
  std::vector<std::shared_ptr<ConnectionBase>> snapshot();

  void accept();

  ServerOptions options;
  Router router;
  std::shared_ptr<DeliveryGate> gate = std::make_shared<DeliveryGate>();
  HttpMetrics metrics;
  // Declared before the io_contexts so it is destroyed after the TLS streams that use it.
  std::optional<net::ssl::context> tls;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> workGuards;
  std::optional<net::ip::tcp::acceptor> acceptor;  // runs on contexts[0]
  std::optional<net::steady_timer> acceptRetry;
  net::ip::tcp::endpoint localEndpoint;
  std::size_t nextContext = 0;  // round-robin; touched only on contexts[0]
  std::vector<std::thread> threads;

  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};

  std::mutex mutex;  // guards everything below
  std::condition_variable changed;
  std::unordered_map<ConnectionBase*, std::shared_ptr<ConnectionBase>> connections;
  std::size_t activeConnections = 0;
  std::size_t runningThreads = 0;
};

// Starts serving an accepted socket (bound to `context`) and registers it with the core.
void startConnection(Server::Core& core, net::io_context& context, net::ip::tcp::socket socket);

// Loads the PEM certificate chain and key into a TLS server context.
Status loadTlsContext(net::ssl::context& context, const std::string& certFile,
                      const std::string& keyFile);

}  // namespace netledger::http
