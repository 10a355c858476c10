// The YAML -> POST /v1/pools conversion of `netledger import ippool`, without a server.
#include "cli/import_ippool.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace netledger::cli {
namespace {

namespace json = boost::json;

std::vector<json::object> convert(std::string_view yaml, const IppoolImportOptions& options = {}) {
  auto r = poolRequestsFromYaml(yaml, options);
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return r.isOk() ? *r : std::vector<json::object>{};
}

// The error message, which must name the document and field.
std::string failure(std::string_view yaml, const IppoolImportOptions& options = {}) {
  auto r = poolRequestsFromYaml(yaml, options);
  EXPECT_FALSE(r.isOk());
  if (r.isOk()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(ImportIppoolTest, KubernetesIpPool) {
  auto pools = convert(R"(
apiVersion: whereabouts.cni.cncf.io/v1alpha1
kind: IPPool
metadata:
  name: blue
  namespace: kube-system
spec:
  subnet: 192.0.2.0/24
  gateway: 192.0.2.1
  reservedIPs:
    - 192.0.2.100-192.0.2.110
    - 192.0.2.200
    - 192.0.2.240/29
)");
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0], obj(R"({"name": "blue", "cidr": "192.0.2.0/24", "gateway": "192.0.2.1",
      "reserved": ["192.0.2.100-192.0.2.110", "192.0.2.200", "192.0.2.240-192.0.2.247"]})"));
}

TEST(ImportIppoolTest, SeveralDocumentsCidrAliasAndPlacement) {
  auto pools = convert(R"(
kind: IPPool
metadata: {name: a}
spec:
  cidr: 2001:DB8:0:0::/64
  network: lab
  tenant: acme
  cluster: east
  vlan: 100
  natOutgoing: true
---
---
kind: IPPool
metadata: {name: b}
spec: {subnet: 198.51.100.0/25}
---
)",
                       {.name = "", .network = "default-net", .tenant = "t0"});
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_EQ(pools[0], obj(R"({"name": "a", "cidr": "2001:db8::/64", "network": "lab",
      "tenant": "acme", "cluster": "east", "vlan": 100})"));
  EXPECT_EQ(pools[1], obj(R"({"name": "b", "cidr": "198.51.100.0/25", "network": "default-net",
      "tenant": "t0"})"));
}

TEST(ImportIppoolTest, HostLocalLegacyRange) {
  auto pools = convert(R"(
cniVersion: 0.4.0
name: mynet
type: bridge
ipam:
  type: host-local
  subnet: 10.10.0.0/16
  rangeStart: 10.10.1.20
  rangeEnd: 10.10.3.50
  gateway: 10.10.0.254
  routes: [{dst: 0.0.0.0/0}]
)");
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0], obj(R"({"name": "mynet", "cidr": "10.10.0.0/16", "gateway": "10.10.0.254",
      "ranges": ["10.10.1.20-10.10.3.50"]})"));
}

TEST(ImportIppoolTest, HostLocalDefaultsGatewayToDotOneAndOmitsRanges) {
  auto pools =
      convert(R"({"name": "n", "ipam": {"type": "host-local", "subnet": "203.0.113.0/24"}})");
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0], obj(R"({"name": "n", "cidr": "203.0.113.0/24", "gateway": "203.0.113.1"})"));
}

// The README example of the host-local plugin, tabs and all: a CNI .conf imports as is.
TEST(ImportIppoolTest, HostLocalRangeSetsBecomeOnePoolEach) {
  auto pools = convert(
      "{\n\t\"cniVersion\": \"0.3.1\",\n\t\"name\": \"cni0\",\n\t\"ipam\": {\n"
      "\t\t\"type\": \"host-local\",\n\t\t\"ranges\": [\n\t\t\t[\n"
      "\t\t\t\t{\"subnet\": \"10.10.0.0/16\", \"rangeStart\": \"10.10.1.20\","
      " \"rangeEnd\": \"10.10.3.50\", \"gateway\": \"10.10.0.254\"},\n"
      "\t\t\t\t{\"subnet\": \"172.16.5.0/24\"}\n\t\t\t],\n"
      "\t\t\t[{\"subnet\": \"3ffe:ffff:0:01ff::/64\", \"rangeStart\": \"3ffe:ffff:0:01ff::0010\","
      " \"rangeEnd\": \"3ffe:ffff:0:01ff::0020\"}]\n\t\t],\n"
      "\t\t\"dataDir\": \"/run/my-orchestrator/container-ipam-state\"\n\t}\n}\n");
  ASSERT_EQ(pools.size(), 2u);
  // The second subnet of the set: whole usable range, its .1 gateway reserved.
  EXPECT_EQ(pools[0], obj(R"({"name": "cni0-0", "cidrs": ["10.10.0.0/16", "172.16.5.0/24"],
      "gateway": "10.10.0.254", "ranges": ["10.10.1.20-10.10.3.50", "172.16.5.1-172.16.5.254"],
      "reserved": ["172.16.5.1"]})"));
  EXPECT_EQ(pools[1], obj(R"({"name": "cni0-1", "cidr": "3ffe:ffff:0:1ff::/64",
      "gateway": "3ffe:ffff:0:1ff::1", "ranges": ["3ffe:ffff:0:1ff::10-3ffe:ffff:0:1ff::20"]})"));
}

TEST(ImportIppoolTest, ConflistPluginsAndNameOverride) {
  auto pools = convert(R"(
name: k8s-pod-network
cniVersion: 0.4.0
plugins:
  - type: bridge
    ipam:
      type: host-local
      ranges:
        - [{subnet: 198.51.100.0/24, rangeStart: 198.51.100.10}]
  - type: portmap
)",
                       {.name = "pods", .network = "", .tenant = ""});
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0], obj(R"({"name": "pods", "cidr": "198.51.100.0/24",
      "gateway": "198.51.100.1", "ranges": ["198.51.100.10-198.51.100.254"]})"));
}

TEST(ImportIppoolTest, ErrorsNameDocumentAndField) {
  std::string e = failure(R"(
kind: IPPool
metadata: {name: ok}
spec: {subnet: 192.0.2.0/24}
---
kind: IPPool
metadata: {name: blue}
spec:
  subnet: 198.51.100.0/24
  reservedIPs: ["198.51.100.5", "198.51.100.9-198.51.100.1"]
)");
  EXPECT_NE(e.find("document 2 (IPPool \"blue\"): spec.reservedIPs[1]: "), std::string::npos) << e;

  e = failure("kind: IPPool\nmetadata: {name: x}\nspec: {subnet: 10.0.0.1/24}\n");
  EXPECT_NE(e.find("document 1 (IPPool \"x\"): spec.subnet: "), std::string::npos) << e;

  e = failure("kind: IPPool\nmetadata: {name: x}\nspec: {gateway: 10.0.0.1}\n");
  EXPECT_NE(e.find("spec.subnet: required"), std::string::npos) << e;

  e = failure("kind: IPPool\nspec: {subnet: 10.0.0.0/24}\n");
  EXPECT_NE(e.find("document 1 (IPPool): metadata: required"), std::string::npos) << e;

  e = failure("kind: IPPool\nmetadata: {name: x}\nspec: {subnet: 10.0.0.0/24, cidr: 10.0.0.0/24}");
  EXPECT_NE(e.find("spec.cidr: give subnet or cidr, not both"), std::string::npos) << e;

  e = failure("kind: IPPool\nmetadata: {name: x}\nspec: {subnet: 10.0.0.0/24, vlan: 5000}");
  EXPECT_NE(e.find("spec.vlan: \"5000\" is not a VLAN id"), std::string::npos) << e;

  e = failure("kind: Deployment\nmetadata: {name: x}\n");
  EXPECT_NE(e.find("document 1: kind: \"Deployment\" is not IPPool"), std::string::npos) << e;

  e = failure("foo: bar\n");
  EXPECT_NE(e.find("neither a Kubernetes IPPool"), std::string::npos) << e;

  e = failure("- a\n- b\n");
  EXPECT_NE(e.find("document 1: expected a mapping"), std::string::npos) << e;
}

TEST(ImportIppoolTest, HostLocalErrors) {
  std::string e =
      failure(R"({"name": "n", "ipam": {"type": "whereabouts", "range": "10.0.0.0/24"}})");
  EXPECT_NE(e.find("document 1 (CNI config \"n\"): ipam.type: \"whereabouts\" is not host-local"),
            std::string::npos)
      << e;

  e = failure(R"({"name": "n", "ipam": {"type": "host-local",
      "ranges": [[{"subnet": "10.0.0.0/24"}, {"subnet": "10.1.0.0/24", "rangeEnd": "10.2.0.9"}]]}})");
  EXPECT_NE(e.find("ipam.ranges[0][1].rangeEnd: 10.2.0.9 is outside subnet 10.1.0.0/24"),
            std::string::npos)
      << e;

  e = failure(R"({"name": "n", "ipam": {"type": "host-local",
      "ranges": [[{"subnet": "10.0.0.0/24"}, {"subnet": "2001:db8::/64"}]]}})");
  EXPECT_NE(e.find("ipam.ranges[0][1].subnet: mixes IPv4 and IPv6"), std::string::npos) << e;

  e = failure(R"({"name": "n", "ipam": {"type": "host-local", "subnet": "10.0.0.0/24",
      "rangeStart": "10.0.0.50", "rangeEnd": "10.0.0.40"}})");
  EXPECT_NE(e.find("ipam.rangeEnd: 10.0.0.40 is before rangeStart 10.0.0.50"), std::string::npos)
      << e;

  e = failure(R"({"name": "n", "ipam": {"type": "host-local"}})");
  EXPECT_NE(e.find("ipam: needs subnet or ranges"), std::string::npos) << e;

  e = failure(R"({"ipam": {"type": "host-local", "subnet": "10.0.0.0/24"}})");
  EXPECT_NE(e.find("name: required (or give --name)"), std::string::npos) << e;

  e = failure(R"({"name": "n", "ipam": {"ranges": [{"subnet": "10.0.0.0/24"}]}})");
  EXPECT_NE(e.find("ipam.ranges[0]: must be a non-empty list of ranges"), std::string::npos) << e;
}

TEST(ImportIppoolTest, DuplicateNamesAcrossDocuments) {
  std::string e = failure(R"(
kind: IPPool
metadata: {name: same}
spec: {subnet: 192.0.2.0/24}
---
name: same
ipam: {type: host-local, subnet: 198.51.100.0/24}
)");
  EXPECT_NE(e.find("document 2 (CNI config \"same\"): name: pool name \"same\" is also used by "
                   "document 1"),
            std::string::npos)
      << e;
}

TEST(ImportIppoolTest, MalformedYamlAndEmptyInput) {
  std::string e = failure("kind: IPPool\nmetadata: [a\n");
  EXPECT_NE(e.find("YAML line "), std::string::npos) << e;
  e = failure("");
  EXPECT_NE(e.find("no pools found"), std::string::npos) << e;
  e = failure("---\n---\n");
  EXPECT_NE(e.find("no pools found"), std::string::npos) << e;
}

}  // namespace
}  // namespace netledger::cli
