// What only the memory: backend offers: fault injection for the Ledger's undo path.
#include "store/memory/memory_store.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace netledger::store {
namespace {

using namespace testing_util;  // NOLINT: test helpers

TEST(MemoryStoreTest, FailNextAppliesFailsThatManyAndAppliesNothing) {
  MemoryStore store;
  store.failNextApplies(2);
  for (int i = 0; i < 2; ++i) {
    Status s = store.apply({ledger::PutBinding{minimalBinding(1), 0},
                            ledger::AppendEvent{event(1, 1, "a", "b", {"k"})}});
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.toString();
  }
  EXPECT_TRUE(store.load()->bindings.empty());
  EXPECT_EQ(store.load()->last_binding_id, 0u);
  EXPECT_TRUE(store.queryEvents({})->empty());
  // The third succeeds: the failures were not sticky.
  NL_EXPECT_OK(store.apply({ledger::PutBinding{minimalBinding(1), 0},
                            ledger::AppendEvent{event(1, 1, "a", "b", {"k"})}}));
  EXPECT_EQ(store.load()->bindings.size(), 1u);
}

TEST(MemoryStoreTest, FailNextAppliesCanBeCancelled) {
  MemoryStore store;
  store.failNextApplies(5);
  store.failNextApplies(0);
  NL_EXPECT_OK(store.apply({ledger::PutBinding{minimalBinding(1), 0}}));
}

TEST(MemoryStoreTest, InjectedFailureTakesPrecedenceOverConflicts) {
  // The Ledger must be able to rely on "nothing applied" whichever error it gets.
  MemoryStore store;
  NL_EXPECT_OK(store.apply({ledger::PutBinding{minimalBinding(1), 0}}));
  store.failNextApplies(1);
  EXPECT_EQ(store.apply({ledger::PutBinding{minimalBinding(1), 0}}).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(store.apply({ledger::PutBinding{minimalBinding(1), 0}}).code(), StatusCode::kConflict);
  EXPECT_EQ(store.url(), "memory:");
}

}  // namespace
}  // namespace netledger::store
