#include "http/stream_channel.h"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace netledger::http {

StreamChannel::StreamChannel(std::weak_ptr<ConnectionBase> connection, net::io_context& context,
                             std::shared_ptr<DeliveryGate> gate, std::size_t maxQueuedBytes)
    : connection_(std::move(connection)),
      context_(context),
      gate_(std::move(gate)),
      maxQueuedBytes_(maxQueuedBytes) {}

bool StreamChannel::write(std::string data) {
  {
    std::lock_guard lock(mutex_);
    if (!open_) return false;
    // An empty chunk would read as the end of a chunked body.
    if (data.empty()) return true;
    if (data.size() > maxQueuedBytes_ - queuedBytes_) {
      // Queueing more would only grow memory for a client that does not keep up; cut it off
      // instead of stalling the producer (which may be the ledger's commit thread).
      open_ = false;
      overflowed_ = true;
      queue_.clear();
    } else {
      queuedBytes_ += data.size();
      queue_.push_back(std::move(data));
    }
    if (notifyPending_) return open_;
    notifyPending_ = true;
  }
  notify();
  std::lock_guard lock(mutex_);
  return open_;
}

void StreamChannel::finish() {
  {
    std::lock_guard lock(mutex_);
    if (!open_) return;
    open_ = false;
    ending_ = true;
    if (notifyPending_) return;
    notifyPending_ = true;
  }
  notify();
}

bool StreamChannel::isOpen() const {
  std::lock_guard lock(mutex_);
  return open_;
}

StreamChannel::Batch StreamChannel::take() {
  std::lock_guard lock(mutex_);
  notifyPending_ = false;
  Batch batch;
  batch.abort = overflowed_;
  batch.end = ending_;
  if (overflowed_) return batch;
  batch.chunks.swap(queue_);
  for (const std::string& chunk : batch.chunks) batch.bytes += chunk.size();
  return batch;
}

void StreamChannel::written(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  queuedBytes_ -= std::min(bytes, queuedBytes_);
}

void StreamChannel::shutdown() {
  std::lock_guard lock(mutex_);
  open_ = false;
  ending_ = true;
  queue_.clear();
  queuedBytes_ = 0;
}

void StreamChannel::notify() {
  bool posted = false;
  {
    // The gate guarantees the io_context still exists while we post to it.
    std::lock_guard lock(gate_->mutex);
    if (gate_->open) {
      if (auto connection = connection_.lock()) {
        try {
          net::post(context_,
                    [connection = std::move(connection)] { connection->onStreamReady(); });
          posted = true;
        } catch (...) {
          // Allocation failure: treat the stream as lost rather than leave the producer
          // writing into a queue nobody drains.
        }
      }
    }
  }
  if (!posted) shutdown();  // the connection or the whole server is gone
}

}  // namespace netledger::http
