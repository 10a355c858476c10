#include "http/responder.h"

#include "http/problem.h"

namespace netledger::http {
namespace {

class CallbackExchange final : public detail::Exchange {
 public:
  explicit CallbackExchange(std::function<void(Response)> deliver) : deliver_(std::move(deliver)) {}
  void complete(Response&& response) noexcept override {
    // The callback is the caller's code: an exception must not escape a destructor path.
    try {
      if (deliver_) deliver_(std::move(response));
    } catch (...) {
    }
  }

 private:
  std::function<void(Response)> deliver_;
};

}  // namespace

Responder Responder::fromCallback(std::function<void(Response)> deliver) {
  return Responder(std::make_shared<CallbackExchange>(std::move(deliver)));
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    abandon();
    exchange_ = std::move(other.exchange_);
  }
  return *this;
}

Responder::~Responder() { abandon(); }

void Responder::operator()(Response response) noexcept {
  // Moving the exchange out first makes a second call a no-op, even if complete() re-enters.
  std::shared_ptr<detail::Exchange> exchange = std::move(exchange_);
  if (exchange) exchange->complete(std::move(response));
}

void Responder::abandon() noexcept {
  if (!exchange_) return;
  try {
    (*this)(problem(500, codeName(StatusCode::kInternal), "the handler did not respond"));
  } catch (...) {
    // Building the problem can only fail on allocation; an empty 500 still unblocks the client.
    Response fallback;
    fallback.status = 500;
    (*this)(std::move(fallback));
  }
}

std::function<void(Response)> asCallback(Responder responder) {
  struct Shared {
    std::mutex mutex;
    Responder responder;
  };
  auto shared = std::make_shared<Shared>();
  shared->responder = std::move(responder);
  return [shared](Response response) {
    Responder taken;
    {
      std::lock_guard lock(shared->mutex);
      taken = std::move(shared->responder);
    }
    taken(std::move(response));
  };
}

}  // namespace netledger::http
