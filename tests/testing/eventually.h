#pragma once
// eventually(pred): for state that arrives asynchronously (another replica's feed, a restarted
// server). Polls `pred` every `every` until it holds or `limit` has passed; returns its last
// answer.
//
//   ASSERT_TRUE(testing_util::eventually([&] { return b.getPool(admin, "web").isOk(); }));

#include <chrono>
#include <thread>

namespace netledger::testing_util {

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5),
                std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(every);
  }
  return pred();
}

}  // namespace netledger::testing_util
