#include "vendor/oui_registry.h"
#include "addr/addr_test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

namespace netledger::vendor {
namespace {

namespace fs = std::filesystem;
using addr::Mac;

using ::netledger::addr::testing_util::mac;

// A directory of registry files written by the test, removed afterwards.
class FixtureDir {
 public:
  FixtureDir() {
    path_ = fs::temp_directory_path() /
            ("netledger-oui-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~FixtureDir() { fs::remove_all(path_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

constexpr char kHeader[] = "Registry,Assignment,Organization Name,Organization Address\r\n";

// Quoted fields with commas, doubled quotes and a line break; a tab and padding to trim; a
// duplicate assignment (the first must win); an MA-L block subdivided by MA-M and MA-S.
std::string fixtureOui() {
  return std::string(kHeader) +
         "MA-L,005056,\"VMware, Inc.\",3401 Hillview Avenue PALO ALTO CA US 94304 \r\n"
         "MA-L,001EFC,\"JSC \"\"MASSA-K\"\"\",\"15, A, Pirogovskaya nab.\r\nSaint-Petersburg "
         "RU\"\r\n"
         "MA-L,0001c8,THOMAS CONRAD CORP.,1908-R KRAMER LANE AUSTIN TX US 78758 \r\n"
         "MA-L,70B3D5,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US 08554 \r\n"
         "MA-L,901234,\"  Shenzhen YOUHUA Technology Co., Ltd\t\",Room 407\r\n"
         "MA-L,0001C8,CONRAD CORP.,     \r\n"
         "MA-L,00005E,\"ICANN, IANA Department\",Los Angeles CA US\r\n";
}
std::string fixtureMam() {
  return std::string(kHeader) + "MA-M,70B3D51,Twenty-Eight Bits Ltd,\"Street 1, Town\"\r\n";
}
std::string fixtureOui36() {
  return std::string(kHeader) +
         "MA-S,70B3D5F2F,TELEPLATFORMS,\"Polbina st., 3/1 Moscow  RU 109388 \"\r\n"
         "MA-S,70B3D51AB,Thirty-Six Bits GmbH,Somewhere\r\n";
}

OuiRegistry loadFixture() {
  FixtureDir dir;
  dir.write("oui.csv", fixtureOui());
  dir.write("mam.csv", fixtureMam());
  dir.write("oui36.csv", fixtureOui36());
  auto r = OuiRegistry::load(dir.path());
  EXPECT_TRUE(r) << r.status().toString();
  return std::move(r).value();
}

TEST(OuiRegistryFixtureTest, QuotedFieldsTrimmingAndDuplicates) {
  OuiRegistry r = loadFixture();
  EXPECT_EQ(r.size(), 9u);
  EXPECT_EQ(r.duplicatesDropped(), 1u);
  EXPECT_EQ(r.lookup(mac("00:50:56:01:02:03")).organization, "VMware, Inc.");
  EXPECT_EQ(r.lookup(mac("00:1e:fc:00:00:01")).organization, "JSC \"MASSA-K\"");
  EXPECT_EQ(r.lookup(mac("90:12:34:00:00:01")).organization, "Shenzhen YOUHUA Technology Co., Ltd");
  // 0001C8 is listed twice (lower and upper case hex): the first row wins.
  EXPECT_EQ(r.lookup(mac("00:01:c8:aa:bb:cc")).organization, "THOMAS CONRAD CORP.");
  EXPECT_EQ(r.lookup(mac("00:01:c8:aa:bb:cc")).registry, "MA-L");
  EXPECT_EQ(r.lookup(mac("00:01:c9:00:00:00")).organization, "");
  EXPECT_EQ(r.lookup(mac("00:01:c9:00:00:00")).registry, "");
}

TEST(OuiRegistryFixtureTest, LongestMatchWins) {
  OuiRegistry r = loadFixture();
  MacVendor s = r.lookup(mac("70:b3:d5:f2:f0:01"));
  EXPECT_EQ(s.organization, "TELEPLATFORMS");
  EXPECT_EQ(s.registry, "MA-S");
  // 70:b3:d5:1a:b.. is in the MA-S block inside the MA-M block 70:b3:d5:1.
  EXPECT_EQ(r.lookup(mac("70:b3:d5:1a:bf:ff")).organization, "Thirty-Six Bits GmbH");
  MacVendor m = r.lookup(mac("70:b3:d5:1a:c0:00"));
  EXPECT_EQ(m.organization, "Twenty-Eight Bits Ltd");
  EXPECT_EQ(m.registry, "MA-M");
  EXPECT_EQ(r.lookup(mac("70:b3:d5:1f:ff:ff")).registry, "MA-M");
  MacVendor l = r.lookup(mac("70:b3:d5:20:00:00"));
  EXPECT_EQ(l.organization, "IEEE Registration Authority");
  EXPECT_EQ(l.registry, "MA-L");
}

TEST(OuiRegistryFixtureTest, FlagsAndMulticast) {
  OuiRegistry r = loadFixture();
  MacVendor v = r.lookup(mac("00:50:56:aa:bb:cc"));
  EXPECT_EQ(v.virtual_platform, "VMware");
  EXPECT_FALSE(v.locally_administered);
  EXPECT_FALSE(v.multicast);
  // A group address belongs to the OUI with the I/G bit cleared (01:00:5e = IANA's 00:00:5e).
  MacVendor g = r.lookup(mac("01:00:5e:00:00:fb"));
  EXPECT_TRUE(g.multicast);
  EXPECT_EQ(g.organization, "ICANN, IANA Department");
  MacVendor laa = r.lookup(mac("02:50:56:aa:bb:cc"));  // 00:50:56 with the U/L bit set
  EXPECT_TRUE(laa.locally_administered);
  EXPECT_EQ(laa.organization, "");
  EXPECT_EQ(laa.virtual_platform, "");
  MacVendor qemu = r.lookup(mac("52:54:00:12:34:56"));
  EXPECT_EQ(qemu.virtual_platform, "QEMU/KVM");
  EXPECT_TRUE(qemu.locally_administered);
  EXPECT_EQ(qemu.organization, "");
  MacVendor broadcast = r.lookup(mac("ff:ff:ff:ff:ff:ff"));
  EXPECT_TRUE(broadcast.multicast);
  EXPECT_TRUE(broadcast.locally_administered);
}

TEST(OuiRegistryFixtureTest, OptionalFilesMayBeMissingButOuiCsvMayNot) {
  FixtureDir only_oui;
  only_oui.write("oui.csv", fixtureOui());
  auto r = OuiRegistry::load(only_oui.path());
  ASSERT_TRUE(r) << r.status().toString();
  EXPECT_EQ(r->size(), 6u);

  FixtureDir no_oui;
  no_oui.write("mam.csv", fixtureMam());
  auto missing = OuiRegistry::load(no_oui.path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(no_oui.path() + "/oui.csv"), std::string::npos)
      << missing.status().message();
}

TEST(OuiRegistryFixtureTest, MalformedLinesAreErrorsNamingFileAndLine) {
  struct Case {
    std::string file;
    std::string text;
    std::string where;    // "file:line"
    std::string problem;  // a fragment of the message
  };
  const std::string h = kHeader;
  const std::string good = "MA-L,005056,VMware,x\r\n";
  std::vector<Case> cases = {
      {"oui.csv", h + good + "MA-L,00505G,Bad Hex,x\r\n", "oui.csv:3", "\"00505G\" is not 6 hex"},
      {"oui.csv", h + good + "MA-L,0050561,Too Long,x\r\n", "oui.csv:3", "not 6 hex digits"},
      {"oui.csv", h + "MA-L,005057,Three fields\r\n", "oui.csv:2", "expected 4 fields, found 3"},
      {"oui.csv", h + "MA-X,005057,Who,x\r\n", "oui.csv:2", "Registry \"MA-X\""},
      {"oui.csv", h + good + "MA-L,005058,\"Never closed,x\r\nMA-L,005059,A,b\r\n", "oui.csv:3",
       "never closed"},
      {"oui.csv", h + "MA-L,005058,Acme \"Q\",x\r\n", "oui.csv:2", "quote inside an unquoted"},
      {"oui.csv", "Registry,Assignment,Name\r\n" + good, "oui.csv:1", "\"Organization Name\""},
      {"oui.csv", "", "oui.csv:", "no header row"},
      {"mam.csv", h + "MA-M,70B3D,Short,x\r\n", "mam.csv:2", "not 7 hex digits (MA-M)"},
      // The error line is where the record starts, after a multi-line quoted address.
      {"oui36.csv", h + "MA-S,70B3D5F2F,A,\"1\n2\n3\"\r\nMA-S,70B3D5F2,B,x\r\n", "oui36.csv:5",
       "not 9 hex digits"},
  };
  for (const auto& c : cases) {
    FixtureDir dir;
    if (c.file != "oui.csv") dir.write("oui.csv", h + good);
    dir.write(c.file, c.text);
    auto r = OuiRegistry::load(dir.path());
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    const std::string& m = r.status().message();
    EXPECT_NE(m.find(dir.path() + "/" + c.where), std::string::npos) << m;
    EXPECT_NE(m.find(c.problem), std::string::npos) << m;
  }
}

TEST(OuiRegistryBuilderTest, FailedCsvLeavesEarlierContentUntouched) {
  OuiRegistryBuilder builder;
  ASSERT_TRUE(builder.addCsv("a.csv", fixtureOui()).isOk());
  Status bad = builder.addCsv(
      "b.csv", std::string(kHeader) + "MA-M,A8A8A8A,New Org,x\r\n" + "MA-M,BBBBBBX,Bad,x\r\n");
  ASSERT_FALSE(bad.isOk());
  EXPECT_TRUE(bad.message().starts_with("b.csv:3: ")) << bad.message();
  OuiRegistry r = std::move(builder).build();
  EXPECT_EQ(r.size(), 6u);
  EXPECT_EQ(r.lookup(mac("a8:a8:a8:a0:00:00")).organization, "");
  for (const auto& a : r.assignments()) EXPECT_NE(a.organization, "New Org");
}

TEST(OuiRegistryBuilderTest, AddRefusesInconsistentAssignments) {
  OuiRegistryBuilder builder;
  EXPECT_FALSE(builder.add(0x001122000000, 28, "MA-L", "x").isOk());
  EXPECT_FALSE(builder.add(0x001122000000, 24, "OUI", "x").isOk());
  EXPECT_FALSE(builder.add(0x001122000000, 32, "MA-S", "x").isOk());
  EXPECT_TRUE(builder.add(0x001122300000, 28, "MA-M", "x").isOk());
  EXPECT_EQ(std::move(builder).build().size(), 1u);
}

TEST(OuiRegistryBuiltinTest, VirtualPlatformsWithoutIeeeData) {
  OuiRegistry r = OuiRegistry::builtinOnly();
  EXPECT_EQ(r.size(), 5u);
  struct Case {
    const char* mac;
    const char* platform;
    const char* organization;
  };
  for (const Case& c :
       {Case{"52:54:00:ab:cd:ef", "QEMU/KVM", ""},
        Case{"00:50:56:00:00:01", "VMware", "VMware, Inc."},
        Case{"00:0c:29:00:00:01", "VMware", "VMware, Inc."},
        Case{"00:05:69:00:00:01", "VMware", "VMware, Inc."},
        Case{"00:15:5d:00:00:01", "Hyper-V", "Microsoft Corporation"},
        Case{"00:16:3e:00:00:01", "Xen", "Xensource, Inc."}, Case{"00:1a:2b:00:00:01", "", ""}}) {
    MacVendor v = r.lookup(mac(c.mac));
    EXPECT_EQ(v.virtual_platform, c.platform) << c.mac;
    EXPECT_EQ(v.organization, c.organization) << c.mac;
  }
}

// The real registry, as Debian's ieee-data installs it (scripts/install-deps).
class InstalledRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = OuiRegistry::load();
    ASSERT_TRUE(r) << r.status().toString() << " (is the ieee-data package installed?)";
    registry_ = new OuiRegistry(std::move(r).value());
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  static inline OuiRegistry* registry_ = nullptr;
};

TEST_F(InstalledRegistryTest, KnownVendorsAndFlags) {
  ASSERT_NE(registry_, nullptr);
  const OuiRegistry& r = *registry_;
  EXPECT_GT(r.size(), 40000u);

  MacVendor vmware = r.lookup(mac("00:50:56:9a:01:02"));
  EXPECT_EQ(vmware.organization, "VMware, Inc.");
  EXPECT_EQ(vmware.registry, "MA-L");
  EXPECT_EQ(vmware.virtual_platform, "VMware");
  EXPECT_EQ(r.lookup(mac("00:0c:29:00:00:01")).virtual_platform, "VMware");
  EXPECT_EQ(r.lookup(mac("00:05:69:00:00:01")).organization, "VMware, Inc.");

  MacVendor xen = r.lookup(mac("00:16:3e:12:34:56"));
  EXPECT_EQ(xen.organization, "Xensource, Inc.");
  EXPECT_EQ(xen.virtual_platform, "Xen");

  MacVendor hyperv = r.lookup(mac("00:15:5d:01:02:03"));
  EXPECT_EQ(hyperv.organization, "Microsoft Corporation");
  EXPECT_EQ(hyperv.virtual_platform, "Hyper-V");

  MacVendor qemu = r.lookup(mac("52:54:00:12:34:56"));
  EXPECT_EQ(qemu.virtual_platform, "QEMU/KVM");
  EXPECT_TRUE(qemu.locally_administered);
  EXPECT_EQ(qemu.organization, "");
  EXPECT_EQ(qemu.registry, "");

  // 02:60:8c is a historical 3Com MA-L in the locally administered half: not reported.
  MacVendor laa = r.lookup(mac("02:60:8c:00:00:01"));
  EXPECT_TRUE(laa.locally_administered);
  EXPECT_FALSE(laa.multicast);
  EXPECT_EQ(laa.organization, "");

  MacVendor stp = r.lookup(mac("01:80:c2:00:00:00"));
  EXPECT_TRUE(stp.multicast);
  EXPECT_FALSE(stp.locally_administered);
  EXPECT_EQ(stp.organization, "IEEE 802.1 Chair");
  EXPECT_TRUE(r.lookup(mac("33:33:00:00:00:01")).multicast);
  EXPECT_TRUE(r.lookup(mac("33:33:00:00:00:01")).locally_administered);
}

TEST_F(InstalledRegistryTest, MaMAndMaSAndIabLongestMatch) {
  ASSERT_NE(registry_, nullptr);
  const OuiRegistry& r = *registry_;
  MacVendor s = r.lookup(mac("70:b3:d5:f2:f0:00"));
  EXPECT_EQ(s.organization, "TELEPLATFORMS");
  EXPECT_EQ(s.registry, "MA-S");
  MacVendor m = r.lookup(mac("20:85:93:b0:00:01"));
  EXPECT_EQ(m.organization, "IOG Products LLC");
  EXPECT_EQ(m.registry, "MA-M");
  EXPECT_EQ(r.lookup(mac("20:85:93:00:00:01")).organization, "Hemina Spa");
  MacVendor iab = r.lookup(mac("00:50:c2:7d:50:01"));
  EXPECT_EQ(iab.organization, "DEUTA-WERKE GmbH");
  EXPECT_EQ(iab.registry, "IAB");
  // Every assignment's first MAC resolves to exactly that assignment, unless a longer one
  // covers the same address (a subdivided block).
  std::size_t shadowed = 0;
  for (const auto& a : r.assignments()) {
    Mac first(a.prefix);
    if (first.isLocallyAdministered() || first.isMulticast()) continue;
    MacVendor v = r.lookup(first);
    if (v.registry != a.registry) {
      ++shadowed;
      continue;
    }
    EXPECT_EQ(v.organization, a.organization) << first.toString();
  }
  EXPECT_LT(shadowed, r.size() / 10);
}

// The reference: a linear scan over every assignment for the longest one holding `m`, with
// the lookup's documented rules (no organization for locally administered MACs, group MACs
// looked up with the I/G bit cleared).
const OuiAssignment* naiveLookup(const std::vector<OuiAssignment>& all, Mac m) {
  if (m.isLocallyAdministered()) return nullptr;
  std::uint64_t value = m.value() & ~(std::uint64_t{1} << 40);
  const OuiAssignment* best = nullptr;
  for (const auto& a : all) {
    if ((value >> (48 - a.bits)) != (a.prefix >> (48 - a.bits))) continue;
    if (!best || a.bits > best->bits) best = &a;
  }
  return best;
}

void expectAgreesWithLinearScan(const OuiRegistry& r, std::uint64_t seed, int rounds) {
  std::vector<OuiAssignment> all = r.assignments();
  ASSERT_EQ(all.size(), r.size());
  std::mt19937_64 rng(seed);
  for (int i = 0; i < rounds; ++i) {
    std::uint64_t value = rng() & Mac::kMask;
    // Half the MACs fall inside a real assignment (random suffix), so matches are exercised
    // and not only misses; the others are uniform over the space.
    if (i % 2 == 0 && !all.empty()) {
      const auto& a = all[rng() % all.size()];
      std::uint64_t suffix_mask = (std::uint64_t{1} << (48 - a.bits)) - 1;
      value = a.prefix | (value & suffix_mask);
    }
    Mac m(value);
    MacVendor got = r.lookup(m);
    const OuiAssignment* want = naiveLookup(all, m);
    ASSERT_EQ(got.organization, want ? want->organization : "") << m.toString();
    ASSERT_EQ(got.registry, want ? want->registry : "") << m.toString();
    ASSERT_EQ(got.multicast, m.isMulticast());
    ASSERT_EQ(got.locally_administered, m.isLocallyAdministered());
  }
}

TEST_F(InstalledRegistryTest, PropertyLookupAgreesWithLinearScan) {
  ASSERT_NE(registry_, nullptr);
  expectAgreesWithLinearScan(*registry_, 1234, 3000);
}

// Random registries packed into a small corner of the space, so 24-, 28- and 36-bit
// assignments nest and collide (duplicates included).
TEST(OuiRegistryPropertyTest, RandomNestedRegistriesAgreeWithLinearScan) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 40; ++round) {
    OuiRegistryBuilder builder;
    std::set<std::pair<std::uint64_t, int>> seen;
    std::size_t added = 0;
    for (int n = static_cast<int>(rng() % 200); n > 0; --n) {
      static constexpr std::pair<int, const char*> kKinds[] = {
          {24, "MA-L"}, {28, "MA-M"}, {36, "MA-S"}, {36, "IAB"}};
      auto [bits, registry] = kKinds[rng() % 4];
      // First octet 0x00 or 0x01 (multicast rows exist in the registry too), few distinct bits.
      std::uint64_t prefix =
          ((rng() % 2) << 40 | (rng() % 4) << 28 | (rng() % 4) << 20 | (rng() % 2) << 12) &
          ~((std::uint64_t{1} << (48 - bits)) - 1);
      ASSERT_TRUE(builder.add(prefix, bits, registry, "org-" + std::to_string(rng() % 50)).isOk());
      ++added;
      seen.insert({prefix, bits});
    }
    OuiRegistry r = std::move(builder).build();
    EXPECT_EQ(r.size(), seen.size());
    EXPECT_EQ(r.size() + r.duplicatesDropped(), added);
    expectAgreesWithLinearScan(r, 1000 + static_cast<std::uint64_t>(round), 500);
  }
}

TEST(VendorJsonTest, FieldsAndEscaping) {
  OuiRegistryBuilder builder;
  // A name with quotes, a backslash, a tab (becomes a space), and an invalid UTF-8 byte.
  ASSERT_TRUE(builder.add(0x001122000000, 24, "MA-L", "Q \"x\" \\ y\tz \xff \xc3\xa9").isOk());
  OuiRegistry r = std::move(builder).build();

  std::string text = vendorJson(r.lookup(mac("00:11:22:33:44:55")));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  ASSERT_FALSE(ec) << text;
  EXPECT_EQ(v.at("organization"), "Q \"x\" \\ y z \xef\xbf\xbd \xc3\xa9");
  EXPECT_EQ(v.at("registry"), "MA-L");
  EXPECT_EQ(v.at("virtual"), "");
  EXPECT_EQ(v.at("locally_administered"), false);

  boost::json::value q = boost::json::parse(vendorJson(r.lookup(mac("52:54:00:00:00:01"))));
  EXPECT_EQ(q, boost::json::parse(R"({"organization":"","registry":"","virtual":"QEMU/KVM",
                                      "locally_administered":true})"));
}

TEST(DefaultRegistryTest, LoadedOnceFromIeeeDataAndSharedAcrossThreads) {
  std::vector<const OuiRegistry*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = &defaultRegistry(); });
  }
  for (auto& t : threads) t.join();
  for (const auto* p : seen) EXPECT_EQ(p, seen[0]);
  auto loaded = OuiRegistry::load();
  ASSERT_TRUE(loaded) << loaded.status().toString();
  EXPECT_EQ(seen[0]->size(), loaded->size());
  EXPECT_EQ(seen[0]->lookup(mac("00:50:56:00:00:01")).organization, "VMware, Inc.");
}

}  // namespace
}  // namespace netledger::vendor
