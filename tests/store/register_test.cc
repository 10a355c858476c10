#include "store/register.h"

#include <gtest/gtest.h>

#include "ledger/store.h"
#include "store/store_test_util.h"

namespace netledger::store {
namespace {

TEST(RegisterTest, OpensBothBuiltinSchemesAndIsIdempotent) {
  registerBuiltinStores();
  registerBuiltinStores();
  auto memory = ledger::openStore("memory:");
  ASSERT_TRUE(memory.isOk()) << memory.status().toString();
  EXPECT_EQ((*memory)->url(), "memory:");

  testing_util::TempDir dir;
  auto sqlite = ledger::openStore("sqlite:" + dir.file("x.db"));
  ASSERT_TRUE(sqlite.isOk()) << sqlite.status().toString();
  EXPECT_EQ((*sqlite)->url(), "sqlite:" + dir.file("x.db"));
  // URL style with an absolute path names the same file.
  sqlite->reset();
  auto url_style = ledger::openStore("sqlite://" + dir.file("x.db"));
  ASSERT_TRUE(url_style.isOk()) << url_style.status().toString();
  EXPECT_EQ((*url_style)->url(), "sqlite:" + dir.file("x.db"));
}

TEST(RegisterTest, RefusesUnknownSchemesAndEmptySqlitePaths) {
  registerBuiltinStores();
  auto etcd = ledger::openStore("etcd://localhost:2379");
  EXPECT_EQ(etcd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(etcd.status().message().find("sqlite"), std::string::npos);  // lists the known
  EXPECT_EQ(ledger::openStore("sqlite:").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace netledger::store
