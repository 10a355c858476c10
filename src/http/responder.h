#pragma once
// Responder: how a handler answers. Handlers are asynchronous because the ledger acknowledges a
// write only after its batch is durably committed, possibly on another thread and later; the
// Responder is the capability to answer the one request it was made for.
//
// Contract:
//  - Call it exactly once, from any thread. The server hands the response to the connection's
//    I/O thread; a call from that thread itself is delivered without a hop.
//  - If it is destroyed without being called (a handler bug, an exception, a dropped callback),
//    the client gets a 500 problem instead of a connection that hangs forever.
//  - A second call is ignored: the first answer is the one the client saw.
//  - Move-only: exactly one owner owes the answer.
//  - The Request the handler received stays valid until the Responder is called or destroyed.
//  - Calling it after the server stopped is harmless: the response is dropped.

#include <functional>
#include <memory>
#include <mutex>

#include "http/message.h"

namespace netledger::http {

namespace detail {
// Where a Responder delivers; implemented by the server's connection and by fromCallback.
class Exchange {
 public:
  virtual ~Exchange() = default;
  // Called at most once, from any thread. Must not throw.
  virtual void complete(Response&& response) noexcept = 0;
};
}  // namespace detail

class Responder {
 public:
  Responder() = default;  // owes nothing; calling it does nothing
  explicit Responder(std::shared_ptr<detail::Exchange> exchange) noexcept
      : exchange_(std::move(exchange)) {}
  // A Responder that hands the response to `deliver`: for testing handlers without a server and
  // for in-process callers.
  static Responder fromCallback(std::function<void(Response)> deliver);

  Responder(Responder&& other) noexcept = default;
  // Assigning over a Responder that still owes an answer answers it with 500 first.
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void operator()(Response response) noexcept;
  void send(Response response) noexcept { (*this)(std::move(response)); }

  // True while this Responder still owes an answer.
  bool pending() const noexcept { return exchange_ != nullptr; }
  explicit operator bool() const noexcept { return pending(); }

 private:
  void abandon() noexcept;

  std::shared_ptr<detail::Exchange> exchange_;
};

// For APIs that take a copyable std::function (a Responder is move-only): all copies share the
// one Responder, the first call answers and later calls are ignored, and if every copy is
// destroyed without a call the client gets the usual 500. Safe to call from any thread.
std::function<void(Response)> asCallback(Responder responder);

}  // namespace netledger::http
