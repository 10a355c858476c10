#include "http/server.h"

#include <cassert>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include "common/parse.h"
#include "http/server_core.h"

namespace netledger::http {
namespace {

using tcp = net::ip::tcp;

Result<tcp::endpoint> resolveListenAddress(std::string_view listen) {
  std::string_view host;
  std::string_view port;
  if (listen.starts_with('[')) {
    auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Status::invalidArgument("listen address must be [ipv6]:port: " + std::string(listen));
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::invalidArgument("listen address must be host:port: " + std::string(listen));
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Status::invalidArgument("IPv6 listen address needs brackets ([::1]:8080): " +
                                     std::string(listen));
    }
  }
  auto parsed = parseUnsigned("listen port", port, 65535);
  if (!parsed) return parsed.status();
  auto portNumber = static_cast<std::uint16_t>(*parsed);
  if (host.empty()) return tcp::endpoint(net::ip::address_v4::any(), portNumber);
  boost::system::error_code addressError;
  auto address = net::ip::make_address(host, addressError);
  if (!addressError) return tcp::endpoint(address, portNumber);

  net::io_context resolverContext;
  tcp::resolver resolver(resolverContext);
  boost::system::error_code resolveError;
  auto results = resolver.resolve(host, port, resolveError);
  if (resolveError || results.empty()) {
    return Status::invalidArgument("listen host does not resolve: " + std::string(host));
  }
  return results.begin()->endpoint();
}

Status openAcceptor(tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  const std::string where =
      " " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()) + ": ";
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return Status::unavailable("listen" + where + ec.message());
  // Lets a restarted server bind while old connections sit in TIME_WAIT.
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) return Status::unavailable("bind" + where + ec.message());
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::unavailable("listen" + where + ec.message());
  return Status::ok();
}

void runIoThread(Server::Core& core, net::io_context& context) {
  tRunningContext = &context;
  while (true) {
    try {
      context.run();
      break;
    } catch (...) {
      // Connection code catches what it calls; anything reaching here is a bug in a handler we
      // do not own. Keep serving the other connections rather than losing the thread.
    }
  }
  tRunningContext = nullptr;
  std::lock_guard lock(core.mutex);
  --core.runningThreads;
  core.changed.notify_all();
}

}  // namespace

Server::Core::Core(ServerOptions opts, Router r)
    : options(std::move(opts)), router(std::move(r)), metrics(options.metrics) {}

void Server::Core::registerConnection(std::shared_ptr<ConnectionBase> connection) {
  std::lock_guard lock(mutex);
  ConnectionBase* key = connection.get();
  connections.emplace(key, std::move(connection));
  ++activeConnections;
  metrics.connectionOpened();
}

void Server::Core::deactivate() {
  std::lock_guard lock(mutex);
  if (--activeConnections == 0) changed.notify_all();
}

void Server::Core::unregister(ConnectionBase* connection) {
  std::shared_ptr<ConnectionBase> last;  // released after the lock: it may be the last reference
  std::lock_guard lock(mutex);
  auto it = connections.find(connection);
  if (it == connections.end()) return;
  last = std::move(it->second);
  connections.erase(it);
  metrics.connectionClosed();
  changed.notify_all();
}

std::vector<std::shared_ptr<ConnectionBase>> Server::Core::snapshot() {
  std::lock_guard lock(mutex);
  std::vector<std::shared_ptr<ConnectionBase>> out;
  out.reserve(connections.size());
  for (const auto& [key, connection] : connections) out.push_back(connection);
  return out;
}

// Runs on contexts[0]. Accepted sockets are spread round-robin over the I/O threads.
void Server::Core::accept() {
  net::io_context& target = *contexts[nextContext++ % contexts.size()];
  acceptor->async_accept(target.get_executor(),
                         [this, &target](boost::system::error_code ec, auto socket) {
                           if (stopping.load() || ec == net::error::operation_aborted) return;
                           if (ec) {
                             // Typically EMFILE: back off briefly instead of spinning on a full
                             // descriptor table.
                             acceptRetry->expires_after(std::chrono::milliseconds(50));
                             acceptRetry->async_wait([this](boost::system::error_code e) {
                               if (!e && !stopping.load()) accept();
                             });
                             return;
                           }
                           try {
                             startConnection(*this, target, tcp::socket(std::move(socket)));
                           } catch (...) {
                             // Allocation failure: the socket is closed by its destructor; keep
                             // accepting.
                           }
                           accept();
                         });
}

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Router router) {
  try {
    if (options.ioThreads == 0) options.ioThreads = 1;
    if (options.maxHeaderBytes == 0 || options.maxHeaderBytes > UINT32_MAX) {
      return Status::invalidArgument("max header bytes must be 1..4294967295");
    }
    auto endpoint = resolveListenAddress(options.listen);
    if (!endpoint) return endpoint.status();
    auto core = std::make_unique<Core>(std::move(options), std::move(router));
    const ServerOptions& opts = core->options;

    if (!opts.tlsCertFile.empty() || !opts.tlsKeyFile.empty()) {
      if (opts.tlsCertFile.empty() || opts.tlsKeyFile.empty()) {
        return Status::invalidArgument("TLS needs both a certificate and a key file");
      }
      core->tls.emplace(net::ssl::context::tls_server);
      NL_RETURN_IF_ERROR(loadTlsContext(*core->tls, opts.tlsCertFile, opts.tlsKeyFile));
    }

    for (std::size_t i = 0; i < opts.ioThreads; ++i) {
      // Concurrency hint 1: each io_context is run by exactly one thread, so Asio can skip
      // locking in its scheduler.
      core->contexts.push_back(std::make_unique<net::io_context>(1));
      core->workGuards.push_back(net::make_work_guard(*core->contexts.back()));
    }
    core->acceptor.emplace(*core->contexts[0]);
    core->acceptRetry.emplace(*core->contexts[0]);
    NL_RETURN_IF_ERROR(openAcceptor(*core->acceptor, *endpoint));
    core->localEndpoint = core->acceptor->local_endpoint();

    std::unique_ptr<Server> server(new Server(std::move(core)));
    Core& c = *server->core_;
    net::post(*c.contexts[0], [&c] { c.accept(); });
    for (auto& context : c.contexts) {
      {
        std::lock_guard lock(c.mutex);
        ++c.runningThreads;
      }
      try {
        c.threads.emplace_back([&c, ctx = context.get()] { runIoThread(c, *ctx); });
      } catch (...) {
        std::lock_guard lock(c.mutex);
        --c.runningThreads;
        throw;
      }
    }
    return server;
  } catch (const std::exception& e) {
    // ~Server has stopped whatever had started.
    return Status::internal(std::string("http server start: ") + e.what());
  }
}

Server::Server(std::unique_ptr<Core> core) : core_(std::move(core)) {}

Server::~Server() {
  stop(std::chrono::milliseconds(0));
  // Drop the registry's references while the io_contexts still exist; then the Core destroys
  // the io_contexts, and with them any handler still queued.
  std::unordered_map<ConnectionBase*, std::shared_ptr<ConnectionBase>> connections;
  {
    std::lock_guard lock(core_->mutex);
    connections.swap(core_->connections);
  }
  connections.clear();
  core_->acceptor.reset();
  core_->acceptRetry.reset();
}

std::uint16_t Server::port() const { return core_->localEndpoint.port(); }

Endpoint Server::localEndpoint() const {
  return {core_->localEndpoint.address().to_string(), core_->localEndpoint.port()};
}

bool Server::isTls() const { return core_->tls.has_value(); }

void Server::stop(std::chrono::milliseconds drainDeadline) {
  Core& c = *core_;
  for (const auto& context : c.contexts) {
    // Joining the I/O threads from one of them would wait for itself forever.
    assert(tRunningContext != context.get() && "Server::stop called from an I/O thread");
    (void)context;
  }
  if (c.stopped.exchange(true)) return;
  const auto deadline = std::chrono::steady_clock::now() + drainDeadline;
  c.stopping.store(true);
  if (!c.contexts.empty()) {
    net::post(*c.contexts[0], [&c] {
      boost::system::error_code ignored;
      if (c.acceptor) c.acceptor->close(ignored);
      if (c.acceptRetry) c.acceptRetry->cancel();
    });
  }
  for (auto& connection : c.snapshot()) {
    net::post(connection->context(), [connection] { connection->onServerStopping(); });
  }
  {
    std::unique_lock lock(c.mutex);
    c.changed.wait_until(lock, deadline, [&] { return c.activeConnections == 0; });
  }
  // Past the deadline (or drained): close everything left, including connections that are only
  // draining their input after their last response.
  for (auto& connection : c.snapshot()) {
    net::post(connection->context(), [connection] { connection->forceClose(); });
  }
  c.workGuards.clear();
  {
    // With every socket closed the loops run out of work within moments; the bound only
    // guards against a handler we do not control that keeps re-arming work.
    std::unique_lock lock(c.mutex);
    if (!c.changed.wait_for(lock, std::chrono::seconds(2), [&] { return c.runningThreads == 0; })) {
      for (auto& context : c.contexts) context->stop();
    }
  }
  for (auto& thread : c.threads) {
    if (thread.joinable()) thread.join();
  }
  // From now on a Responder must not post: the io_contexts are about to be destroyed.
  std::lock_guard lock(c.gate->mutex);
  c.gate->open = false;
}

}  // namespace netledger::http
