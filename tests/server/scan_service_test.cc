// ScanService over a real Ledger (memory: store) and a real Engine driven on the test's thread:
// which addresses a scan covers, the pending -> done transition and what it makes of the
// answers, and which scans a tenant-limited token sees.
#include "server/scans/scan_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "addr/addr_test_util.h"
#include "engine/engine.h"
#include "engine/ledger_adapter.h"
#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace netledger::server {
namespace {

namespace json = boost::json;
using addr::IpAddress;
using addr::Mac;
using ledger::Actor;
using ledger::Role;

using ::netledger::addr::testing_util::ip;
using ::netledger::addr::testing_util::mac;

class ScanServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_ = std::make_unique<ledger::Ledger>(store_, clock_);
    ASSERT_TRUE(ledger_->open().isOk());
    port_ = std::make_unique<engine::LedgerAdapter>(*ledger_);
    engine_ = std::make_unique<engine::Engine>(*port_, clock_);
    ASSERT_TRUE(engine_->open().isOk());
    scans_ = std::make_unique<ScanService>(*ledger_, engine_.get(), clock_);
    // 192.0.2.2-.199 and .211-.254: no network, broadcast, gateway or reserved range.
    makePool("lab", "192.0.2.0/24", "blue", [](ledger::PoolRecord& r) {
      r.gateway = ip("192.0.2.1");
      r.reserved = {addr::IpRange::make(ip("192.0.2.200"), ip("192.0.2.210")).value()};
    });
    makePool("red-lab", "198.51.100.0/29", "red", [](ledger::PoolRecord&) {});
  }
  void TearDown() override { ledger_->close(); }

  template <typename Edit>
  void makePool(const char* name, const char* cidr, const char* tenant, Edit edit) {
    ledger::PoolCreate create;
    create.record.name = name;
    create.record.cidrs = {addr::Prefix::parse(cidr).value()};
    create.record.tenant = tenant;
    edit(create.record);
    auto r = ledger_->createPool(Actor::system("test"), std::move(create));
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    ASSERT_TRUE(ledger_->waitDurable(r->ticket).isOk());
  }
  ledger::BindingRecord bind(const char* instance, const char* address, const char* m) {
    ledger::AllocateRequest r;
    r.instance = instance;
    r.pools = {"lab"};
    r.address = ip(address);
    r.mac = mac(m);
    auto applied = ledger_->allocate(op_, r);
    EXPECT_TRUE(applied.isOk()) << applied.status().toString();
    EXPECT_TRUE(ledger_->waitDurable(applied->ticket).isOk());
    return applied->value;
  }
  std::string requestScan(const char* pool = "lab") {
    auto applied = scans_->request(op_, ScanRequest{pool, "node-1", 50});
    EXPECT_TRUE(applied.isOk()) << applied.status().toString();
    if (!applied.isOk()) return "";
    EXPECT_TRUE(ledger_->waitDurable(applied->ticket).isOk());
    return std::string(applied->value.at("id").as_string());
  }

  FakeClock clock_;
  store::MemoryStore store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<engine::LedgerAdapter> port_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<ScanService> scans_;
  Actor op_{"agent", Role::kOperator, {}};
};

TEST_F(ScanServiceTest, ARequestCoversThePoolsAllocatableAddressesAndIsPending) {
  auto applied = scans_->request(op_, ScanRequest{"lab", "node-1", 50});
  ASSERT_TRUE(applied.isOk()) << applied.status().toString();
  const json::object& scan = applied->value;
  EXPECT_EQ(scan.at("id").as_string(), "scan-1");
  EXPECT_EQ(scan.at("state").as_string(), "pending");
  EXPECT_EQ(scan.at("pool").as_string(), "lab");
  EXPECT_EQ(scan.at("tenant").as_string(), "blue");
  EXPECT_EQ(scan.at("via").as_string(), "node-1");
  EXPECT_EQ(scan.at("rate_per_s").as_int64(), 50);
  EXPECT_EQ(scan.at("address_count").to_number<std::uint64_t>(), 198u + 44u);
  EXPECT_EQ(json::serialize(scan.at("addresses")),
            R"([{"start":"192.0.2.2","end":"192.0.2.199"},)"
            R"({"start":"192.0.2.211","end":"192.0.2.254"}])");
  // The stored document and the answer are the same bytes.
  EXPECT_EQ(applied->json, json::serialize(scan));
  ASSERT_TRUE(ledger_->waitDurable(applied->ticket).isOk());
  EXPECT_EQ(json::serialize(scans_->get(op_, "scan-1").value()), applied->json);
  // Ids keep counting up.
  EXPECT_EQ(requestScan(), "scan-2");
}

TEST_F(ScanServiceTest, PoolsThatCannotBeScannedAreRefusedNamingThePool) {
  makePool("big", "10.0.0.0/15", "", [](ledger::PoolRecord&) {});
  auto big = scans_->request(op_, ScanRequest{"big", "node-1", 100});
  ASSERT_FALSE(big.isOk());
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(big.status().message().rfind("pool: ", 0), 0u) << big.status().message();
  auto missing = scans_->request(op_, ScanRequest{"nope", "node-1", 100});
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("pool"), std::string::npos);
  EXPECT_TRUE(ledger_->documents("scan").empty());
}

TEST_F(ScanServiceTest, CompletingComparesTheAnswersWithTheLedgerOnce) {
  auto quiet = bind("vm-quiet", "192.0.2.11", "52:54:00:00:00:11");
  bind("vm-loud", "192.0.2.10", "52:54:00:00:00:10");
  const std::string id = requestScan();
  ScanReport report;
  report.answered = {{ip("192.0.2.10"), mac("52:54:00:00:00:10")},
                     {ip("192.0.2.50"), mac("02:00:00:00:00:50")},
                     {ip("192.0.2.50"), mac("02:00:00:00:00:50")}};
  auto done = scans_->complete(op_, id, report);
  ASSERT_TRUE(done.isOk()) << done.status().toString();
  const json::object& scan = done->value;
  EXPECT_EQ(scan.at("state").as_string(), "done");
  EXPECT_EQ(scan.at("probed").to_number<std::uint64_t>(), 242u);  // the address count by default
  EXPECT_EQ(scan.at("answered_count").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(json::serialize(scan.at("unknown_stations")),
            R"([{"ip":"192.0.2.50","mac":"02:00:00:00:00:50"}])");
  const json::array& silent = scan.at("silent_bindings").as_array();
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_EQ(silent[0].at("id").as_string(), std::to_string(quiet.id));
  EXPECT_EQ(silent[0].at("ip").as_string(), "192.0.2.11");
  EXPECT_EQ(silent[0].at("mac").as_string(), "52:54:00:00:00:11");
  ASSERT_TRUE(ledger_->waitDurable(done->ticket).isOk());

  // The stranger went to the engine: an unknown_station conflict names it.
  engine_->processQueued();
  engine::ConflictFilter filter;
  filter.kind = engine::ConflictKind::kUnknownStation;
  auto conflicts = engine_->list(filter, "", 10);
  ASSERT_TRUE(conflicts.isOk());
  ASSERT_EQ(conflicts->items.size(), 1u);
  EXPECT_EQ(conflicts->items[0].mac, "02:00:00:00:00:50");

  auto again = scans_->complete(op_, id, ScanReport{});
  ASSERT_FALSE(again.isOk());
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_EQ(again.status().message().rfind("state: ", 0), 0u) << again.status().message();
}

TEST_F(ScanServiceTest, AnAnswerOutsideTheScanIsRefusedAndChangesNothing) {
  const std::string id = requestScan();
  ScanReport report;
  report.answered = {{ip("192.0.2.5"), mac("02:00:00:00:00:05")},
                     {ip("192.0.2.205"), mac("02:00:00:00:00:06")}};  // reserved: not scanned
  report.probed = 10;
  auto refused = scans_->complete(op_, id, report);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message().rfind("answered[1].ip: 192.0.2.205", 0), 0u)
      << refused.status().message();
  EXPECT_EQ(scans_->get(op_, id)->at("state").as_string(), "pending");
  auto missing = scans_->complete(op_, "scan-99", ScanReport{});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(ScanServiceTest, ATenantLimitedTokenSeesOnlyItsPoolsScansNewestFirst) {
  const std::string blue1 = requestScan("lab");
  const std::string red = requestScan("red-lab");
  const std::string blue2 = requestScan("lab");
  Actor blue{"blue-op", Role::kOperator, {"blue"}};
  auto seen = scans_->list(blue, 10);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].at("id").as_string(), blue2);
  EXPECT_EQ(seen[1].at("id").as_string(), blue1);
  EXPECT_EQ(scans_->list(op_, 10).size(), 3u);
  EXPECT_EQ(scans_->list(op_, 1).size(), 1u);
  EXPECT_EQ(scans_->get(blue, red).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(scans_->complete(blue, red, ScanReport{}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(scans_->request(blue, ScanRequest{"red-lab", "node-1", 100}).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace netledger::server
