// One HTTP/1.1 connection: read a request, hand it to its handler, write the response, repeat.
// Plain and TLS connections share this code through the Stream template parameter.

#include <array>
#include <chrono>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "http/problem.h"
#include "http/request_rules.h"
#include "http/server_core.h"
#include "http/stream_channel.h"

namespace netledger::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kServerName = "netledgerd";

// The per-request state a Responder keeps alive: the Request itself (so an asynchronous
// handler may keep using it) and the way back to the connection.
class ServerExchange final : public detail::Exchange {
 public:
  ServerExchange(std::weak_ptr<ConnectionBase> connection, const net::io_context* context,
                 std::shared_ptr<DeliveryGate> gate, std::uint64_t sequence)
      : connection_(std::move(connection)),
        context_(context),
        gate_(std::move(gate)),
        sequence_(sequence) {}

  void complete(Response&& response) noexcept override {
    try {
      if (tRunningContext == context_) {
        // On the connection's own thread (the common synchronous case): the io_context is
        // running, so deliver directly.
        if (auto c = connection_.lock()) c->deliver(sequence_, std::move(response));
        return;
      }
      std::lock_guard lock(gate_->mutex);
      if (!gate_->open) return;
      if (auto c = connection_.lock()) {
        net::io_context& context = c->context();
        net::post(context, [c = std::move(c), sequence = sequence_,
                            response = std::move(response)]() mutable {
          c->deliver(sequence, std::move(response));
        });
      }
    } catch (...) {
      // Only allocation can fail here; the client then sees the connection time out.
    }
  }

  Request request;

 private:
  std::weak_ptr<ConnectionBase> connection_;
  const net::io_context* context_;
  std::shared_ptr<DeliveryGate> gate_;
  std::uint64_t sequence_;
};

// Fields the server owns: a handler setting them would corrupt the framing.
bool isServerOwnedField(std::string_view name) {
  return equalsIgnoreCase(name, "Content-Length") || equalsIgnoreCase(name, "Content-Type") ||
         equalsIgnoreCase(name, "Transfer-Encoding") || equalsIgnoreCase(name, "Connection") ||
         equalsIgnoreCase(name, "Server");
}

bool hasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

Response payloadTooLarge(std::size_t limit) {
  return problem(413, codeName(StatusCode::kPayloadTooLarge),
                 "request body exceeds " + std::to_string(limit) + " bytes");
}

bool isDisconnect(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == net::error::eof || ec == net::error::operation_aborted ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == beast::error::timeout || ec == net::ssl::error::stream_truncated;
}

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

template <class Stream>
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <class... StreamArgs>
  Connection(Server::Core& core, net::io_context& context, StreamArgs&&... streamArgs)
      : core_(core),
        context_(context),
        stream_(std::forward<StreamArgs>(streamArgs)...),
        streamTimer_(context) {}

  ~Connection() override {
    // However the connection ends (even with its io_context destroyed under it), a producer
    // still holding the writer must see write() fail.
    if (channel_) channel_->shutdown();
  }

  net::io_context& context() override { return context_; }

  void start() {
    if (core_.stopping.load()) return closeNow();
    beast::error_code ec;
    auto peer = socket().remote_endpoint(ec);
    if (!ec) remote_ = {peer.address().to_string(), peer.port()};
    // Responses go out in one write; Nagle would only hold back the last segment.
    socket().set_option(tcp::no_delay(true), ec);
    if constexpr (kIsTls<Stream>) {
      lowest().expires_after(core_.options.readTimeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code e) {
                                if (self->state_ == State::kClosed) return;
                                if (e) return self->closeNow();
                                self->readHeader();
                              });
    } else {
      readHeader();
    }
  }

  void onServerStopping() override {
    if (state_ == State::kStarting) return closeNow();
    if (state_ == State::kStreaming && channel_) {
      // A stream has no natural end to wait for: end it now, and stop counting as active so
      // it does not hold the drain for its whole deadline.
      deactivate();
      channel_->shutdown();
      return pumpStream();
    }
    // Idle between requests: nothing to finish. A request already arriving is served (with
    // Connection: close), and so is one in a handler or being written.
    if (state_ == State::kReadingHeader && !parser_->got_some() && buffer_.size() == 0) {
      closeNow();
    }
  }

  void forceClose() override { closeNow(); }

  void deliver(std::uint64_t sequence, Response&& response) override {
    // A late answer (the connection closed meanwhile) or a stray one is dropped.
    if (state_ != State::kInHandler || sequence != sequence_) return;
    reply(std::move(response), !keepAlive_ || core_.stopping.load());
  }

  void onStreamReady() override { pumpStream(); }

 private:
  enum class State {
    kStarting,
    kReadingHeader,
    kReadingBody,
    kInHandler,
    kWriting,
    kStreaming,     // a streaming response: headers written or being written, then the body
    kEndingStream,  // its body is complete; waiting for the input watch to stop
    kLingering,
    kClosed
  };

  tcp::socket& socket() { return beast::get_lowest_layer(stream_).socket(); }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void readHeader() {
    if (core_.stopping.load()) return closeGracefully();
    state_ = State::kReadingHeader;
    route_ = nullptr;
    allow_.clear();
    version_ = 11;
    isHead_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_.options.maxHeaderBytes));
    // No body limit yet: Beast would check Content-Length against it while parsing the header
    // and fail the read; onHeader checks it itself to answer 413, then sets the limit.
    parser_->body_limit(boost::none);
    bodyLimit_ = core_.options.maxBodyBytes;
    lowest().expires_after(core_.options.idleTimeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->onHeader(ec);
                             });
  }

  // The header is in: route now, so the body limit can be the route's own and an oversized
  // body is refused before it is read.
  void onHeader(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec) return onReadError(ec);
    started_ = Clock::now();
    auto& message = parser_->get();
    version_ = message.version();
    exchange_ = std::make_shared<ServerExchange>(this->weak_from_this(), &context_, core_.gate,
                                                 ++sequence_);
    Request& request = exchange_->request;
    request.method = message.method_string();
    request.target = message.target();
    isHead_ = request.method == "HEAD";
    auto length = parser_->content_length();
    const bool hasBody = parser_->chunked() || (length && *length > 0);
    if (auto refused =
            checkRequestHeader(message, version_, hasBody, core_.options.jsonBodiesOnly)) {
      return reply(std::move(refused->response), refused->closeAfter);
    }
    if (Status s = parseTarget(request.target, request); !s) {
      return reply(problemFromStatus(s), /*closeAfter=*/true);
    }
    Router::Match match = core_.router.match(request.method, request.segments);
    route_ = match.route;
    allow_ = std::move(match.allow);
    if (parser_->is_done()) return dispatch();

    bodyLimit_ = core_.options.maxBodyBytes;
    if (length && *length > bodyLimit_) return reply(payloadTooLarge(bodyLimit_), true);
    parser_->body_limit(bodyLimit_);

    auto expect = message[bhttp::field::expect];
    if (version_ >= 11 && equalsIgnoreCase(expect, "100-continue")) {
      // The client waits for this before sending the body (curl does for large bodies).
      continue_ = {bhttp::status::continue_, 11};
      lowest().expires_after(core_.options.readTimeout);
      bhttp::async_write(stream_, continue_,
                         [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                           if (self->state_ == State::kClosed) return;
                           if (e) return self->closeNow();
                           self->readBody();
                         });
      return;
    }
    readBody();
  }

  void readBody() {
    state_ = State::kReadingBody;
    lowest().expires_after(core_.options.readTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (self->state_ == State::kClosed) return;
                        if (ec) return self->onReadError(ec);
                        self->dispatch();
                      });
  }

  void onReadError(beast::error_code ec) {
    if (isDisconnect(ec)) return closeNow();
    if (state_ == State::kReadingHeader) started_ = Clock::now();  // for the latency metric
    if (ec == bhttp::error::body_limit) return reply(payloadTooLarge(bodyLimit_), true);
    if (ec == bhttp::error::header_limit) {
      return reply(problem(431, "header_too_large",
                           "request header exceeds " +
                               std::to_string(core_.options.maxHeaderBytes) + " bytes"),
                   true);
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return reply(problem(400, codeName(StatusCode::kInvalidArgument),
                           "malformed HTTP request: " + ec.message()),
                   true);
    }
    closeNow();
  }

  void dispatch() {
    auto& message = parser_->get();
    Request& request = exchange_->request;
    request.headers.reserve(
        static_cast<std::size_t>(std::distance(message.begin(), message.end())));
    for (const auto& field : message) {
      request.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote = remote_;
    keepAlive_ = message.keep_alive();
    parser_.reset();
    state_ = State::kInHandler;
    // No timeout while the handler works: a durable commit takes what it takes, and the
    // client is waiting for the answer, not idle.
    lowest().expires_never();
    if (route_ == nullptr) {
      return deliver(sequence_, noRouteResponse(Router::Match{nullptr, allow_}, request));
    }
    Router::bindParams(*route_, request);
    // The handler may answer inline (deliver() runs before it returns) or later from any thread;
    // nothing below may assume either.
    try {
      route_->handler(request, Responder(exchange_));
    } catch (...) {
      // Unwinding destroyed the handler's Responder, which answered 500 (unless the handler had
      // already answered or handed the Responder on, in which case that owner answers).
    }
  }

  void reply(Response&& response, bool closeAfter) {
    unsigned status = response.status;
    if (status < 200 || status > 999) {
      response = problem(500, codeName(StatusCode::kInternal),
                         "handler produced invalid status " + std::to_string(status));
      status = 500;
    }
    // A HEAD served by a GET route is counted as HEAD.
    std::string_view method =
        isHead_             ? std::string_view("HEAD")
        : route_ != nullptr ? std::string_view(route_->method)
                            : methodLabel(exchange_ ? std::string_view(exchange_->request.method)
                                                    : std::string_view("other"));
    core_.metrics.recordRequest(route_ != nullptr ? std::string_view(route_->pattern) : "unmatched",
                                method, status,
                                std::chrono::duration<double>(Clock::now() - started_).count());
    if (response.onStream && status != 204 && status != 304)
      return startStream(std::move(response));

    response_ = {};
    response_.version(version_);
    response_.result(status);
    response_.set(bhttp::field::server, kServerName);
    copyHandlerHeaders(response, response_);
    if (status != 204 && status != 304) {
      response_.set(bhttp::field::content_type, response.contentType.empty()
                                                    ? std::string_view("application/octet-stream")
                                                    : std::string_view(response.contentType));
      response_.content_length(response.body.size());
      // A HEAD response announces the length but sends no body (RFC 9110 §9.3.2).
      if (!isHead_) response_.body() = std::move(response.body);
    }
    response_.keep_alive(!closeAfter);
    closeAfterWrite_ = closeAfter;
    state_ = State::kWriting;
    lowest().expires_after(core_.options.readTimeout);
    bhttp::async_write(stream_, response_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         self->onWrite(ec);
                       });
  }

  template <class Message>
  static void copyHandlerHeaders(const Response& response, Message& message) {
    for (const auto& [name, value] : response.headers) {
      if (isServerOwnedField(name) || hasLineBreak(name) || hasLineBreak(value)) continue;
      message.insert(name, value);
    }
  }

  // A streaming response: the header now, the body as the producer writes it. HTTP/1.1 gets
  // chunked coding, so a client can tell a complete stream from a cut one; HTTP/1.0 knows no
  // chunks, so its body ends when the connection does. Either way the connection closes after
  // the stream, which is why the header says `Connection: close` from the start.
  void startStream(Response&& response) {
    streamHeader_ = {};
    streamHeader_.version(version_);
    streamHeader_.result(response.status);
    streamHeader_.set(bhttp::field::server, kServerName);
    copyHandlerHeaders(response, streamHeader_);
    streamHeader_.set(bhttp::field::content_type, response.contentType.empty()
                                                      ? std::string_view("application/octet-stream")
                                                      : std::string_view(response.contentType));
    // Caches and buffering proxies would otherwise hold events back.
    streamHeader_.set(bhttp::field::cache_control, "no-cache");
    if (!streamHeader_.count("X-Accel-Buffering")) streamHeader_.set("X-Accel-Buffering", "no");
    chunked_ = version_ >= 11;
    if (chunked_) streamHeader_.chunked(true);
    if (isHead_) {
      // Headers only; the response is complete, so keep-alive can go on.
      closeAfterWrite_ = !keepAlive_ || core_.stopping.load();
    } else {
      closeAfterWrite_ = true;
      channel_ = std::make_shared<StreamChannel>(this->weak_from_this(), context_, core_.gate,
                                                 core_.options.maxStreamQueueBytes);
      if (!response.body.empty()) (void)channel_->write(std::move(response.body));
      onStream_ = std::move(response.onStream);
    }
    streamHeader_.keep_alive(!closeAfterWrite_);
    state_ = State::kStreaming;
    streamSerializer_.emplace(streamHeader_);
    lowest().expires_after(core_.options.readTimeout);
    bhttp::async_write_header(stream_, *streamSerializer_,
                              [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                                self->onStreamHeader(ec);
                              });
  }

  void onStreamHeader(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    if (isHead_) return onWrite(ec);
    exchange_.reset();
    if (ec) return closeNow();
    // The stream may stay open for hours: no idle or read deadline applies from here on.
    lowest().expires_never();
    streamReady_ = true;
    if (core_.stopping.load()) channel_->shutdown();
    watchInput();
    if (channel_->isOpen()) {
      auto onStream = std::move(onStream_);
      onStream_ = nullptr;
      try {
        onStream(std::make_shared<StreamHandle>(channel_));
      } catch (...) {
        // The handle died with the exception, which ended the stream like close().
      }
    }
    pumpStream();
  }

  // Keeps a read outstanding for the whole stream: a client that goes away is seen at once
  // (end of stream or reset), not at the next write, which may be minutes away. A client has
  // nothing to say on a stream, so whatever it sends is discarded.
  void watchInput() {
    watchPending_ = true;
    stream_.async_read_some(net::buffer(scratch_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->watchPending_ = false;
                              if (self->state_ == State::kClosed) return;
                              if (self->state_ == State::kEndingStream)
                                return self->closeGracefully();
                              if (ec) return self->closeNow();
                              self->watchInput();
                            });
  }

  // Sends whatever the producer queued; ends or aborts the stream when the channel says so.
  // Runs after every write completes and whenever the producer signals, so at most one write is
  // in flight and bytes go out in the order they were written.
  void pumpStream() {
    if (state_ != State::kStreaming || !streamReady_ || streamWriting_) return;
    StreamChannel::Batch batch = channel_->take();
    if (batch.abort) return closeNow();
    if (!batch.chunks.empty()) return writeStreamBatch(std::move(batch));
    if (batch.end) endStream();
  }

  void writeStreamBatch(StreamChannel::Batch&& batch) {
    streamBatch_ = std::move(batch.chunks);
    streamBatchBytes_ = batch.bytes;
    streamBuffers_.clear();
    for (const std::string& chunk : streamBatch_) streamBuffers_.push_back(net::buffer(chunk));
    auto done = [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->onStreamBatchWritten(ec);
    };
    startStreamWrite();
    if (chunked_) {
      net::async_write(stream_, bhttp::make_chunk(streamBuffers_), std::move(done));
    } else {
      net::async_write(stream_, streamBuffers_, std::move(done));
    }
  }

  void onStreamBatchWritten(beast::error_code ec) {
    finishStreamWrite();
    if (state_ == State::kClosed) return;
    if (ec) return closeNow();
    channel_->written(streamBatchBytes_);
    streamBatch_.clear();
    streamBuffers_.clear();
    pumpStream();
  }

  // The producer closed (or the server is stopping): finish the body, then close.
  void endStream() {
    deactivate();
    if (!chunked_) return finishStream();
    startStreamWrite();
    net::async_write(stream_, lastChunk_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->finishStreamWrite();
                       if (self->state_ == State::kClosed) return;
                       if (ec) return self->closeNow();
                       self->finishStream();
                     });
  }

  void finishStream() {
    state_ = State::kEndingStream;
    // The graceful close reads the socket itself; the watch must end first (two reads at once
    // are not allowed on a stream). Its handler continues with closeGracefully().
    if (!watchPending_) return closeGracefully();
    beast::error_code ignored;
    socket().cancel(ignored);
  }

  // Timeouts do not apply to a stream, but one write that makes no progress for readTimeout
  // means the client has stopped reading (or vanished without a reset): close it rather than
  // hold the connection forever when the producer writes too little to hit the queue bound.
  void startStreamWrite() {
    streamWriting_ = true;
    std::uint64_t generation = ++streamWriteGeneration_;
    streamTimer_.expires_after(core_.options.readTimeout);
    streamTimer_.async_wait([self = this->shared_from_this(), generation](beast::error_code ec) {
      if (ec || self->state_ == State::kClosed) return;
      if (self->streamWriting_ && generation == self->streamWriteGeneration_) self->closeNow();
    });
  }

  void finishStreamWrite() {
    streamWriting_ = false;
    streamTimer_.cancel();
  }

  void onWrite(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    exchange_.reset();
    if (ec) return closeNow();
    if (closeAfterWrite_) return closeGracefully();
    readHeader();
  }

  // After a final response: stop counting as active, then let the peer read the response.
  void closeGracefully() {
    deactivate();
    state_ = State::kLingering;
    lingerDeadline_ = Clock::now() + core_.options.closeLinger;
    if constexpr (kIsTls<Stream>) {
      lowest().expires_at(lingerDeadline_);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->closeNow(); });
    } else {
      beast::error_code ignored;
      socket().shutdown(tcp::socket::shutdown_send, ignored);
      linger();
    }
  }

  // Closing a socket with unread input makes the kernel send a reset, which can destroy the
  // response before the client reads it (e.g. after a 413 with the body still arriving). So
  // read and discard until the client closes or the linger time is up.
  void linger() {
    lowest().expires_at(lingerDeadline_);
    buffer_.clear();
    lowest().async_read_some(buffer_.prepare(16 * 1024),
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               if (self->state_ == State::kClosed) return;
                               if (ec) return self->closeNow();
                               self->linger();
                             });
  }

  void closeNow() {
    if (state_ == State::kClosed) return;
    auto self = this->shared_from_this();  // unregister() may drop the last other reference
    state_ = State::kClosed;
    deactivate();
    exchange_.reset();
    if (channel_) channel_->shutdown();
    streamTimer_.cancel();
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
    core_.unregister(this);
  }

  void deactivate() {
    if (!active_) return;
    active_ = false;
    core_.deactivate();
  }

  Server::Core& core_;
  net::io_context& context_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::empty_body> continue_;
  bhttp::response<bhttp::string_body> response_;
  std::shared_ptr<ServerExchange> exchange_;
  const Router::Route* route_ = nullptr;
  std::string allow_;
  Endpoint remote_;
  State state_ = State::kStarting;
  unsigned version_ = 11;
  std::size_t bodyLimit_ = 0;
  bool isHead_ = false;
  bool keepAlive_ = true;
  bool closeAfterWrite_ = false;
  bool active_ = true;
  std::uint64_t sequence_ = 0;
  Clock::time_point started_;
  Clock::time_point lingerDeadline_;

  // A streaming response (kStreaming).
  bhttp::response<bhttp::empty_body> streamHeader_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> streamSerializer_;
  std::shared_ptr<StreamChannel> channel_;
  std::function<void(std::shared_ptr<StreamWriter>)> onStream_;
  std::vector<std::string> streamBatch_;  // the bytes being written
  std::vector<net::const_buffer> streamBuffers_;
  std::size_t streamBatchBytes_ = 0;
  decltype(bhttp::make_chunk_last()) lastChunk_ = bhttp::make_chunk_last();
  std::array<char, 512> scratch_{};
  net::steady_timer streamTimer_;
  std::uint64_t streamWriteGeneration_ = 0;
  bool chunked_ = false;
  bool streamReady_ = false;  // the header is out
  bool streamWriting_ = false;
  bool watchPending_ = false;
};

template <class Stream, class... StreamArgs>
void launch(Server::Core& core, net::io_context& context, StreamArgs&&... streamArgs) {
  auto connection =
      std::make_shared<Connection<Stream>>(core, context, std::forward<StreamArgs>(streamArgs)...);
  core.registerConnection(connection);
  net::post(context, [connection] { connection->start(); });
}

}  // namespace

void startConnection(Server::Core& core, net::io_context& context, tcp::socket socket) {
  if (core.tls) {
    launch<beast::ssl_stream<beast::tcp_stream>>(core, context, std::move(socket), *core.tls);
  } else {
    launch<beast::tcp_stream>(core, context, std::move(socket));
  }
}

Status loadTlsContext(net::ssl::context& context, const std::string& certFile,
                      const std::string& keyFile) {
  boost::system::error_code ec;
  context.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                          net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                          net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use,
                      ec);
  if (ec) return Status::internal("tls: " + ec.message());
  context.use_certificate_chain_file(certFile, ec);
  if (ec) return Status::invalidArgument("tls-cert " + certFile + ": " + ec.message());
  context.use_private_key_file(keyFile, net::ssl::context::pem, ec);
  if (ec) return Status::invalidArgument("tls-key " + keyFile + ": " + ec.message());
  return Status::ok();
}

}  // namespace netledger::http
