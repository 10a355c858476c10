// One validator for pool creation and pool updates: whatever create refuses, update refuses
// with the same message, and neither changes anything.
#include "ledger/validation.h"

#include <gtest/gtest.h>

#include <functional>

#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace netledger::ledger {
namespace {

PoolRecord goodPool() {
  PoolRecord r;
  r.name = "web";
  r.cidrs = {addr::Prefix::parse("192.0.2.0/24").value()};
  return r;
}

struct BadPool {
  const char* what;
  std::function<void(PoolRecord&)> spoil;
  const char* field;  // the message starts with "<field>: "
};

const std::vector<BadPool>& badPools() {
  static const std::vector<BadPool> cases = {
      {"quarantine over a year", [](PoolRecord& r) { r.quarantine_s = 365LL * 86400 + 1; },
       "quarantine_s"},
      {"negative quarantine", [](PoolRecord& r) { r.quarantine_s = -1; }, "quarantine_s"},
      {"ttl over ten years", [](PoolRecord& r) { r.default_ttl_s = 3650LL * 86400 + 1; },
       "default_ttl_s"},
      {"vni of 25 bits", [](PoolRecord& r) { r.vni = 1u << 24; }, "vni"},
      {"vlan 4095", [](PoolRecord& r) { r.vlan = 4095; }, "vlan"},
      {"threshold 0", [](PoolRecord& r) { r.threshold = 0; }, "threshold"},
      {"threshold over 1", [](PoolRecord& r) { r.threshold = 1.01; }, "threshold"},
      {"external that expands",
       [](PoolRecord& r) {
         r.external = true;
         r.auto_expand = true;
       },
       "external"},
      {"control character in cluster", [](PoolRecord& r) { r.cluster = "a\x1b[31m"; }, "cluster"},
      {"NUL in cluster", [](PoolRecord& r) { r.cluster = std::string("a\0b", 3); }, "cluster"},
      {"bad tenant name", [](PoolRecord& r) { r.tenant = "red team"; }, "tenant"},
      {"gateway outside",
       [](PoolRecord& r) { r.gateway = addr::IpAddress::parse("10.0.0.1").value(); }, "gateway"},
      {"range outside",
       [](PoolRecord& r) { r.ranges = {addr::IpRange::parse("192.0.2.10-192.0.3.5").value()}; },
       "ranges"},
      {"reserved outside",
       [](PoolRecord& r) { r.reserved = {addr::IpRange::parse("10.0.0.1-10.0.0.2").value()}; },
       "reserved"},
  };
  return cases;
}

Status validateWhole(const PoolRecord& r) {
  Status s = validatePool(r);
  return s.isOk() ? validatePoolLayout(r) : s;
}

TEST(ValidationTest, APoolIsRefusedNamingTheField) {
  EXPECT_TRUE(validateWhole(goodPool()).isOk());
  for (const auto& c : badPools()) {
    PoolRecord r = goodPool();
    c.spoil(r);
    Status s = validateWhole(r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(s.message().rfind(std::string(c.field) + ": ", 0), 0u)
        << c.what << ": " << s.message();
  }
}

PoolPatch patchFor(const PoolRecord& r) {
  PoolPatch p;
  p.quarantine_s = r.quarantine_s;
  p.default_ttl_s = r.default_ttl_s;
  p.vni = r.vni;
  p.vlan = r.vlan;
  p.threshold = r.threshold;
  p.auto_expand = r.auto_expand;
  p.cluster = r.cluster;
  p.tenant = r.tenant;
  p.gateway = r.gateway;
  p.ranges = r.ranges;
  p.reserved = r.reserved;
  return p;
}

TEST(ValidationTest, UpdateRefusesWhatCreateRefusesWithTheSameMessage) {
  FakeClock clock;
  store::MemoryStore store;
  Ledger ledger(store, clock);
  ASSERT_TRUE(ledger.open().isOk());
  Actor admin{"root", Role::kAdmin, {}};
  PoolCreate base;
  base.record = goodPool();
  base.record.name = "base";
  base.record.external = true;  // so that "external that expands" is a patch of one field too
  auto created = ledger.createPool(admin, base);
  ASSERT_TRUE(created.isOk());
  ASSERT_TRUE(ledger.waitDurable(created->ticket).isOk());
  const auto before = ledger.getPool(admin, "base")->record;
  int i = 0;
  for (const auto& c : badPools()) {
    PoolCreate create;
    create.record = goodPool();
    create.record.name = "p" + std::to_string(i++);
    create.record.external = true;
    c.spoil(create.record);
    auto refused = ledger.createPool(admin, create);
    ASSERT_FALSE(refused.isOk()) << c.what;
    PoolRecord patched = before;
    c.spoil(patched);
    auto update = ledger.updatePool(admin, "base", patchFor(patched));
    ASSERT_FALSE(update.isOk()) << c.what;
    EXPECT_EQ(update.status().toString(), refused.status().toString()) << c.what;
  }
  auto after = ledger.getPool(admin, "base")->record;
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.quarantine_s, before.quarantine_s);
  EXPECT_EQ(ledger.listPools(admin).size(), 1u);
  ledger.close();
}

TEST(ValidationTest, AllocationInputIsCheckedBeforeAnythingElse) {
  AllocateRequest r;
  r.instance = "vm-1";
  r.pools = {"web"};
  EXPECT_TRUE(validateAllocateRequest(r).isOk());
  r.ttl_s = -1;
  EXPECT_EQ(validateAllocateRequest(r).message().rfind("ttl_s: ", 0), 0u);
  r.ttl_s.reset();
  r.mac = addr::Mac::parse("01:00:5e:00:00:01").value();
  EXPECT_EQ(validateAllocateRequest(r).message().rfind("mac: ", 0), 0u);
  r.mac.reset();
  r.probe = true;
  EXPECT_EQ(validateAllocateRequest(r).message().rfind("host: ", 0), 0u);
  r.probe = false;
  r.instance = std::string(254, 'x');
  EXPECT_EQ(validateAllocateRequest(r).message().rfind("instance: ", 0), 0u);
}

}  // namespace
}  // namespace netledger::ledger
