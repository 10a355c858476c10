#include "store/register.h"

#include <chrono>
#include <cstdlib>

#include <gtest/gtest.h>

#include "ledger/store.h"
#include "store/etcd/etcd_client.h"
#include "store/store_test_util.h"
#include "testing/etcd_cluster.h"

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
  auto zk = ledger::openStore("zookeeper://localhost:2181");
  EXPECT_EQ(zk.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(zk.status().message().find("sqlite"), std::string::npos);  // lists the known
  EXPECT_NE(zk.status().message().find("etcd"), std::string::npos);
  EXPECT_EQ(ledger::openStore("sqlite:").status().code(), StatusCode::kInvalidArgument);
}

TEST(RegisterTest, RefusesMalformedEtcdUrlsNamingThePart) {
  registerBuiltinStores();
  for (const char* url :
       {"etcd:localhost:2379", "etcd://", "etcd://localhost", "etcd://:2379",
        "etcd://127.0.0.1:2379,nohost/x", "etcds://host:/p", "etcd://h:1/p?max-txn-ops=8",
        "etcd://h:1/p?max-txn-ops=1k", "etcd://h:1/p?timeout=3"}) {
    auto s = ledger::openStore(url);
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument)
        << url << ": " << s.status().toString();
    EXPECT_NE(s.status().message().find("store"), std::string::npos) << s.status().message();
  }
}

TEST(RegisterTest, TheEtcdUrlCarriesTheClustersTxnOpsLimit) {
  auto plain = etcd::parseEtcdUrl("etcd", "//h:1/p");
  ASSERT_TRUE(plain.isOk());
  EXPECT_EQ(plain->max_txn_ops, 128);
  auto raised = etcd::parseEtcdUrl("etcd", "//h:1,h:2/p?max-txn-ops=1024");
  ASSERT_TRUE(raised.isOk()) << raised.status().toString();
  EXPECT_EQ(raised->max_txn_ops, 1024);
  EXPECT_EQ(raised->prefix, "/p/");
  EXPECT_EQ(raised->endpoints.size(), 2u);
}

TEST(RegisterTest, TheEtcdUrlNamesTheHistoryArchiveAndHowLongEtcdKeepsEvents) {
  auto plain = etcd::parseEtcdUrl("etcd", "//h:1/p");
  ASSERT_TRUE(plain.isOk());
  EXPECT_EQ(plain->history_path, "");
  EXPECT_EQ(plain->log_hours, 168);
  auto all = etcd::parseEtcdUrl("etcd",
                                "//h:1/p?history=/var/lib/n/history.db&log-hours=48"
                                "&max-txn-ops=512");
  ASSERT_TRUE(all.isOk()) << all.status().toString();
  EXPECT_EQ(all->history_path, "/var/lib/n/history.db");
  EXPECT_EQ(all->log_hours, 48);
  EXPECT_EQ(all->max_txn_ops, 512);
  EXPECT_EQ(all->prefix, "/p/");
  for (const char* bad : {"//h:1/p?log-hours=0", "//h:1/p?log-hours=1.5", "//h:1/p?log-hours=",
                          "//h:1/p?history=", "//h:1/p?colour=blue", "//h:1/p?max-txn-ops=8"}) {
    auto s = etcd::parseEtcdUrl("etcd", bad);
    ASSERT_FALSE(s.isOk()) << bad;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("store:"), std::string::npos) << s.status().message();
  }
}

TEST(RegisterTest, AnAbsentEtcdClusterIsUnavailableNotAHang) {
  registerBuiltinStores();
  testing_etcd::EtcdTestCluster unused;  // its ports are free: nothing listens there
  auto started = std::chrono::steady_clock::now();
  auto s = ledger::openStore(unused.url());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().toString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(RegisterTest, OpensAnEtcdClusterWithUserAuthAndRefusesAWrongPassword) {
  registerBuiltinStores();
  testing_etcd::EtcdTestCluster cluster;
  ASSERT_TRUE(cluster.start()) << cluster.error();
  const std::string ctl = "ETCDCTL_API=3 etcdctl --endpoints=" + cluster.endpoints() + " ";
  ASSERT_EQ(std::system((ctl + "user add root:rootpw >/dev/null 2>&1").c_str()), 0);
  ASSERT_EQ(std::system((ctl + "auth enable >/dev/null 2>&1").c_str()), 0);

  auto anonymous = ledger::openStore(cluster.url());
  EXPECT_FALSE(anonymous.isOk());
  ledger::StoreCredentials wrong;
  wrong.user = "root";
  wrong.password = "nope";
  auto refused = ledger::openStore(cluster.url(), wrong);
  EXPECT_FALSE(refused.isOk());
  EXPECT_NE(refused.status().message().find("etcd"), std::string::npos)
      << refused.status().message();

  ledger::StoreCredentials right;
  right.user = "root";
  right.password = "rootpw";
  auto opened = ledger::openStore(cluster.url("auth"), right);
  ASSERT_TRUE(opened.isOk()) << opened.status().toString();
  EXPECT_EQ((*opened)->url(), cluster.url("auth"));
  NL_ASSERT_OK((*opened)->apply({ledger::PutPool{testing_util::minimalPool("p"), 0}}));
  auto state = (*opened)->load();
  ASSERT_TRUE(state.isOk()) << state.status().toString();
  EXPECT_EQ(state->pools.size(), 1u);
}

}  // namespace
}  // namespace netledger::store
