// `netledger conflicts ...` in-process against the real daemon: what the engine found, listed and
// filtered as the API does, shown with its evidence, acknowledged and resolved; bad flags are
// usage errors naming the flag.
#include <tuple>

#include "integration/cli_fixture.h"
#include "testing/eventually.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

class CliConflictsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    createPool(obj({{"name", "vms"}, {"cidr", "192.0.2.0/24"}}));
    auto b = allocate(obj({{"instance", "vm-1"}, {"pool", "vms"}, {"mac", "02:00:00:00:00:01"}}));
    ip_ = strings(b, "addresses").at(0);
    // The address seen on the wire with another MAC: a binding_mismatch.
    mustPost("/v1/observations",
             obj({{"observations", json::array{obj({{"ip", ip_},
                                                    {"mac", "02:00:00:00:00:99"},
                                                    {"kind", "reply"},
                                                    {"interface", "br0"},
                                                    {"host", "hv1"}})}}}),
             202);
    ASSERT_TRUE(testing_util::eventually(
        [&] { return items(mustGet("/v1/conflicts?status=open")).size() == 1; }, 5s));
    id_ = std::to_string(num(items(mustGet("/v1/conflicts"))[0], "id"));
  }
  std::string ip_, id_;
};

TEST_F(CliConflictsTest, ListShowAckResolve) {
  auto [code, out, err] = cli({"conflicts", "list", "--status", "open"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(out.find("binding_mismatch"), std::string::npos) << out;
  EXPECT_NE(out.find("ip:" + ip_), std::string::npos) << out;
  std::tie(code, out, err) = cli({"conflicts", "list", "--kind", "duplicate_ip"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(out.find("binding_mismatch"), std::string::npos) << out;  // the filter reached the API
  std::tie(code, out, err) = cli({"-o", "json", "conflicts", "list", "--ip", ip_});
  ASSERT_EQ(code, 0) << err;
  ASSERT_EQ(items(parseJson(out)).size(), 1u);
  std::tie(code, out, err) = cli({"conflicts", "show", id_});
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(out.find("evidence:"), std::string::npos) << out;
  EXPECT_NE(out.find("02:00:00:00:00:99"), std::string::npos) << out;
  std::tie(code, out, err) = cli({"conflicts", "ack", id_, "--note", "looking"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(str(mustGet("/v1/conflicts/" + id_), "status"), "acknowledged");
  std::tie(code, out, err) = cli({"conflicts", "resolve", id_, "--note", "the VM was moved"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(str(mustGet("/v1/conflicts/" + id_), "status"), "resolved");
  std::tie(code, out, err) = cli({"conflicts", "list", "--status", "open"});
  EXPECT_EQ(out.find("binding_mismatch"), std::string::npos) << out;
}

TEST_F(CliConflictsTest, BadInputIsAUsageErrorAndUnknownIdsAFailure) {
  auto [code, out, err] = cli({"conflicts", "list", "--status", "closed"});
  EXPECT_EQ(code, cli::kExitUsage);
  EXPECT_NE(err.find("--status"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"conflicts", "ack", "x"});
  EXPECT_EQ(code, cli::kExitUsage);
  EXPECT_NE(err.find("id"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"conflicts", "show", "999999"});
  EXPECT_EQ(code, cli::kExitFailure);
  EXPECT_NE(err.find("999999"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"conflicts", "list", "--ip", "not-an-ip"});
  EXPECT_EQ(code, cli::kExitUsage);  // the server's 400 (bad input), naming the parameter
  EXPECT_NE(err.find("ip"), std::string::npos) << err;
}

}  // namespace
}  // namespace netledger::it
