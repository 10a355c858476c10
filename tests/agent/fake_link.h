#pragma once
// An in-memory link for the agent's unit tests: records what is sent and lets a test play the
// other stations (an `on_send` hook may answer by delivering frames to the watchers).

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "agent/link_layer.h"

namespace netledger::agent::testing {

class FakeLink final : public LinkLayer {
 public:
  explicit FakeLink(addr::Mac own) : own_(own) {}

  int sendAll(const std::function<wire::FrameBytes(addr::Mac own)>& build) override {
    wire::FrameBytes f = build(own_);
    std::function<void(const wire::Frame&)> hook;
    {
      std::lock_guard lock(mu_);
      sent_.push_back(f);
      hook = on_send;
    }
    wire::Frame parsed;
    if (hook && wire::parseFrame(f.bytes(), parsed) == wire::ParseError::kOk) hook(parsed);
    return 1;
  }
  std::vector<addr::Mac> ownMacs() const override { return {own_}; }
  void addWatcher(FrameWatcher* w) override {
    std::lock_guard lock(mu_);
    watchers_.push_back(w);
  }
  void removeWatcher(FrameWatcher* w) override {
    std::lock_guard lock(mu_);
    std::erase(watchers_, w);
  }
  // Shows `frame` to every watcher, as the capture thread would.
  void deliver(const wire::FrameBytes& bytes, const std::string& port = "p1") {
    wire::Frame f;
    if (wire::parseFrame(bytes.bytes(), f) != wire::ParseError::kOk) return;
    std::lock_guard lock(mu_);
    for (auto* w : watchers_) w->onFrame(f, port);
  }
  std::vector<wire::Frame> sentFrames() const {
    std::lock_guard lock(mu_);
    std::vector<wire::Frame> out;
    for (const auto& b : sent_) {
      wire::Frame f;
      if (wire::parseFrame(b.bytes(), f) == wire::ParseError::kOk) out.push_back(f);
    }
    return out;
  }
  std::size_t watcherCount() const {
    std::lock_guard lock(mu_);
    return watchers_.size();
  }

  // Called (outside the lock) with each sent frame; may call deliver().
  std::function<void(const wire::Frame&)> on_send;

 private:
  addr::Mac own_;
  mutable std::mutex mu_;
  std::vector<wire::FrameBytes> sent_;
  std::vector<FrameWatcher*> watchers_;
};

}  // namespace netledger::agent::testing
