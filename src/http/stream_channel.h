#pragma once
// Internal: the queue between a streaming response's producer (any thread) and its connection
// (the connection's I/O thread). Producers see it only through a StreamWriter handle.
//
// Why a separate handle: the connection keeps the channel for as long as it streams, so the
// connection's reference cannot tell whether anyone will ever write again. The handle is the
// producer's side only; when the last handle goes away the stream ends like close(), so a
// producer that forgets its writer does not keep a connection open until the server stops.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/message.h"
#include "http/server_core.h"

namespace netledger::http {

class StreamChannel {
 public:
  StreamChannel(std::weak_ptr<ConnectionBase> connection, net::io_context& context,
                std::shared_ptr<DeliveryGate> gate, std::size_t maxQueuedBytes);

  // Producer side, any thread (the StreamWriter contract).
  bool write(std::string data);
  void finish();
  bool isOpen() const;

  // What the connection should do next, taken in one step under the lock.
  struct Batch {
    std::vector<std::string> chunks;  // bytes to send, in write order
    std::size_t bytes = 0;            // their total size
    bool end = false;    // no more data will come: send the end of the body once `chunks` is out
    bool abort = false;  // the client reads too slowly: close without ending the body
  };
  // Connection side (its I/O thread): takes everything queued.
  Batch take();
  // Connection side: `bytes` of a taken batch reached the socket and no longer count against
  // the bound.
  void written(std::size_t bytes);
  // Connection side: the stream is over (client gone, server stopping, connection closing).
  // Writes fail from now on, queued bytes are dropped and take() reports `end`.
  void shutdown();

 private:
  // Asks the connection to call take(); at most one request is outstanding.
  void notify();

  const std::weak_ptr<ConnectionBase> connection_;
  net::io_context& context_;
  const std::shared_ptr<DeliveryGate> gate_;
  const std::size_t maxQueuedBytes_;

  mutable std::mutex mutex_;  // guards everything below
  std::vector<std::string> queue_;
  std::size_t queuedBytes_ = 0;  // accepted and not yet written: queue_ plus the batch in flight
  bool open_ = true;
  bool ending_ = false;
  bool overflowed_ = false;
  bool notifyPending_ = false;
};

// The producer's handle; see the header comment.
class StreamHandle final : public StreamWriter {
 public:
  explicit StreamHandle(std::shared_ptr<StreamChannel> channel) : channel_(std::move(channel)) {}
  ~StreamHandle() override { channel_->finish(); }
  StreamHandle(const StreamHandle&) = delete;
  StreamHandle& operator=(const StreamHandle&) = delete;

  bool write(std::string data) override { return channel_->write(std::move(data)); }
  void close() override { channel_->finish(); }
  bool isOpen() const override { return channel_->isOpen(); }

 private:
  std::shared_ptr<StreamChannel> channel_;
};

}  // namespace netledger::http
