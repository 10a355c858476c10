// netledger-cni against the real daemon, without network namespaces: the allocation answer's
// address_networks, the plugin's requests per ADD (counted in the daemon's /metrics), the MAC the
// IPAM step records with the allocation and what the chained step then writes. The plugin runs
// in-process through cni::run() with a MAC reader seam, and once as the real binary.
// tests/netns/cni_netns_test.py drives the same through the reference bridge and ptp plugins.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <set>

#include "cni/plugin.h"
#include "integration/harness.h"

namespace netledger::it {
namespace {

constexpr const char* kPodMac = "0a:58:c6:33:64:21";

class CniPluginTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    token_file_ = server_.root() + "/cni-token";
    std::ofstream(token_file_) << server_.adminToken() << "\n";
    createPool(
        obj({{"name", "pods-v4"}, {"cidr", "198.51.100.0/24"}, {"gateway", "198.51.100.1"}}));
    createPool(obj({{"name", "pods-v6"}, {"cidr", "2001:db8:1::/64"}}));
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

  json::object ipamConf(json::array pools = {"pods-v4"}) const {
    json::object ipam{{"type", "netledger-cni"},
                      {"server", url()},
                      {"tokenFile", token_file_},
                      {"pools", std::move(pools)},
                      {"host", "node-1"}};
    return {{"cniVersion", "1.0.0"}, {"name", "podnet"}, {"type", "bridge"}, {"ipam", ipam}};
  }

  json::object chainedConf(const json::object& prev, const std::string& mac,
                           const std::string& host = "node-1") const {
    json::object result = prev;
    result["interfaces"] = json::array{
        json::object{{"name", "cni0"}, {"mac", "0a:58:c6:33:64:01"}},
        json::object{{"name", "eth0"}, {"mac", mac}, {"sandbox", "/var/run/netns/pod"}}};
    return {{"cniVersion", "1.0.0"}, {"name", "podnet"},         {"type", "netledger-cni"},
            {"server", url()},       {"tokenFile", token_file_}, {"host", host},
            {"prevResult", result}};
  }

  // One invocation as a runtime makes it; the reader answers `sandbox_mac` and counts its calls.
  cni::PluginOutput run(const char* command, const json::object& conf,
                        std::optional<std::string> sandbox_mac, const std::string& container) {
    std::map<std::string, std::string> env = {{"CNI_COMMAND", command},
                                              {"CNI_CONTAINERID", container},
                                              {"CNI_NETNS", "/var/run/netns/pod"},
                                              {"CNI_IFNAME", "eth0"},
                                              {"CNI_PATH", "/usr/lib/cni"}};
    auto getenv = [&](const char* name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    };
    auto reader = [&](const std::string& netns, const std::string& ifname) {
      ++reads_;
      EXPECT_EQ(netns, "/var/run/netns/pod");
      EXPECT_EQ(ifname, "eth0");
      std::optional<addr::Mac> mac;
      if (sandbox_mac) mac = *addr::Mac::parse(*sandbox_mac);
      return mac;
    };
    return cni::run(
        getenv, json::serialize(conf), [] { return std::string("this-host"); }, reader);
  }

  json::object mustSucceed(const cni::PluginOutput& out) {
    EXPECT_EQ(out.exit_code, 0) << out.stdout_text;
    if (out.stdout_text.empty()) return {};
    return parseJson(out.stdout_text).as_object();
  }

  // Requests the daemon answered for (route, method), any status.
  long requests(std::string_view route, std::string_view method) {
    auto metrics = api_->get("/metrics");
    EXPECT_EQ(metrics.status, 200u);
    const std::string prefix = "netledger_http_requests_total{route=\"" + std::string(route) +
                               "\",method=\"" + std::string(method) + "\",";
    long total = 0;
    for (std::size_t pos = metrics.body.find(prefix); pos != std::string::npos;
         pos = metrics.body.find(prefix, pos + 1)) {
      const std::size_t value = metrics.body.find("} ", pos);
      total += std::stol(metrics.body.substr(value + 2, 20));
    }
    return total;
  }

  json::value liveBinding(const std::string& instance) {
    auto found = items(mustGet("/v1/bindings?instance=" + instance));
    EXPECT_EQ(found.size(), 1u);
    return found.empty() ? json::value() : found.front();
  }

  std::size_t updateEvents() { return items(mustGet("/v1/audit?op=binding.update")).size(); }

  std::string token_file_;
  int reads_ = 0;
};

TEST_F(CniPluginTest, AllocationAnswersEachAddressNetwork) {
  createPool(obj({{"name", "grown"},
                  {"cidrs", json::array{"192.0.2.0/30", "192.0.2.8/29"}},
                  {"gateway", "192.0.2.1"}}));
  auto dual = allocate(obj({{"instance", "vm-1"}, {"pools", json::array{"pods-v4", "pods-v6"}}}));
  const auto& networks = dual.at("address_networks").as_array();
  ASSERT_EQ(networks.size(), 2u) << dual;
  EXPECT_EQ(str(networks[0], "ip"), strings(dual, "addresses")[0]);
  EXPECT_EQ(str(networks[0], "pool"), "pods-v4");
  EXPECT_EQ(str(networks[0], "prefix"), "198.51.100.0/24");
  EXPECT_EQ(str(networks[0], "gateway"), "198.51.100.1");
  EXPECT_EQ(str(networks[1], "prefix"), "2001:db8:1::/64");
  EXPECT_TRUE(networks[1].at("gateway").is_null());  // pods-v6 has none
  // The idempotent repeat answers the same networks.
  auto again =
      allocate(obj({{"instance", "vm-1"}, {"pools", json::array{"pods-v4", "pods-v6"}}}), 200);
  EXPECT_EQ(again.at("address_networks"), dual.at("address_networks"));
  // A pool of several prefixes: the one holding the address; its gateway only when it is there.
  std::vector<std::string> prefixes, gateways;
  for (int i = 0; i < 3; ++i) {
    auto b = allocate(obj({{"instance", "g-" + std::to_string(i)}, {"pool", "grown"}}));
    prefixes.push_back(str(b.at("address_networks").at(0), "prefix"));
    gateways.push_back(str(b.at("address_networks").at(0), "gateway"));
  }
  EXPECT_EQ(prefixes, (std::vector<std::string>{"192.0.2.0/30", "192.0.2.8/29", "192.0.2.8/29"}));
  EXPECT_EQ(gateways, (std::vector<std::string>{"192.0.2.1", "", ""}));
  // An unpooled address has neither.
  auto unpooled = allocate(obj({{"instance", "static-1"}, {"address", "203.0.113.9"}}));
  EXPECT_TRUE(unpooled.at("address_networks").at(0).at("prefix").is_null()) << unpooled;
  // The binding itself is unchanged: reads do not carry the field.
  EXPECT_FALSE(mustGet("/v1/bindings/" + str(dual, "id")).as_object().contains("address_networks"));
}

TEST_F(CniPluginTest, IpamAddRecordsTheMacAndTheChainedStepWritesNothing) {
  auto result = mustSucceed(run("ADD", ipamConf({"pods-v4", "pods-v6"}), kPodMac, "pod-1"));
  EXPECT_EQ(reads_, 1);
  const auto& ips = result.at("ips").as_array();
  ASSERT_EQ(ips.size(), 2u) << result;
  EXPECT_EQ(str(ips[0], "gateway"), "198.51.100.1");
  EXPECT_TRUE(str(ips[0], "address").ends_with("/24")) << result;
  EXPECT_TRUE(str(ips[1], "address").ends_with("/64")) << result;
  EXPECT_FALSE(ips[1].as_object().contains("gateway"));
  // One request: the allocation, already with the pod's MAC and node.
  EXPECT_EQ(requests("/v1/bindings", "POST"), 1);
  EXPECT_EQ(requests("/v1/pools/{name}", "GET"), 0);
  auto b = liveBinding("pod-1");
  EXPECT_EQ(str(b, "mac"), kPodMac);
  EXPECT_EQ(str(b, "host"), "node-1");

  // The chained step finds the row complete: a read, no write, no event.
  auto chained = mustSucceed(run("ADD", chainedConf(result, kPodMac), std::nullopt, "pod-1"));
  EXPECT_EQ(reads_, 1);  // the chained step reads the MAC from prevResult, not the namespace
  EXPECT_EQ(chained.at("ips"), result.at("ips"));
  EXPECT_EQ(requests("/v1/bindings/{id}", "PATCH"), 0);
  EXPECT_EQ(updateEvents(), 0u);

  // DEL does not look into the namespace; it releases.
  mustSucceed(run("DEL", ipamConf(), kPodMac, "pod-1"));
  EXPECT_EQ(reads_, 1);
  EXPECT_EQ(api_->get("/v1/addresses/" + strings(b, "addresses").at(0)).status, 404u);
  EXPECT_EQ(api_->get("/v1/macs/" + std::string(kPodMac)).status, 404u);
}

TEST_F(CniPluginTest, ChainedStepStillRecordsWhatTheIpamStepCouldNot) {
  // No MAC known at IPAM time (ptp creates the interface afterwards): the chained step writes it.
  auto result = mustSucceed(run("ADD", ipamConf(), std::nullopt, "pod-2"));
  EXPECT_TRUE(liveBinding("pod-2").at("mac").is_null());
  mustSucceed(run("ADD", chainedConf(result, kPodMac), std::nullopt, "pod-2"));
  EXPECT_EQ(str(liveBinding("pod-2"), "mac"), kPodMac);
  EXPECT_EQ(updateEvents(), 1u);

  // The MAC changed after IPAM, or the pod is on another node: the chained step fixes the row.
  result = mustSucceed(run("ADD", ipamConf(), "0a:58:c6:33:64:31", "pod-3"));
  EXPECT_EQ(str(liveBinding("pod-3"), "mac"), "0a:58:c6:33:64:31");
  mustSucceed(
      run("ADD", chainedConf(result, "0a:58:c6:33:64:32", "node-2"), std::nullopt, "pod-3"));
  auto b = liveBinding("pod-3");
  EXPECT_EQ(str(b, "mac"), "0a:58:c6:33:64:32");
  EXPECT_EQ(str(b, "host"), "node-2");
  EXPECT_EQ(updateEvents(), 2u);
  // The replaced MAC is released (quarantined), not left to the binding.
  EXPECT_EQ(api_->get("/v1/macs/0a:58:c6:33:64:31").status, 404u);
}

// The `portMappings` capability: the chained step records runtimeConfig.portMappings as the
// binding's /v1/portmaps (one per family the pod holds when no hostIP), a repeated ADD makes
// nothing twice, a host port another pod holds fails the ADD naming it, and DEL removes them.
TEST_F(CniPluginTest, PortMappingsAreRecordedOnceAndRemovedOnDel) {
  auto result = mustSucceed(run("ADD", ipamConf({"pods-v4", "pods-v6"}), kPodMac, "pod-pm"));
  json::object conf = chainedConf(result, kPodMac);
  conf["runtimeConfig"] =
      json::object{{"portMappings", json::array{json::object{{"hostPort", 8080},
                                                             {"containerPort", 80},
                                                             {"protocol", "tcp"},
                                                             {"hostIP", ""}},
                                                json::object{{"hostPort", 5353},
                                                             {"containerPort", 53},
                                                             {"protocol", "UDP"},
                                                             {"hostIP", "203.0.113.7"}}}}};
  mustSucceed(run("ADD", conf, std::nullopt, "pod-pm"));
  auto maps = items(mustGet("/v1/portmaps?node=node-1"));
  ASSERT_EQ(maps.size(), 3u);  // 8080 for IPv4 and IPv6, 5353 on one IPv4 host address
  std::set<std::string> seen;
  for (const auto& m : maps) {
    seen.insert(str(m, "protocol") + "/" + std::to_string(num(m, "host_port")) + "/" +
                str(m, "family") + "/" + str(m, "host_address"));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"tcp/8080/ipv4/", "tcp/8080/ipv6/",
                                         "udp/5353/ipv4/203.0.113.7"}));
  mustSucceed(run("ADD", conf, std::nullopt, "pod-pm"));  // the runtime retried
  EXPECT_EQ(items(mustGet("/v1/portmaps")).size(), 3u);

  // Another pod asking for the same host port: its ADD fails and says who holds it.
  auto other = mustSucceed(run("ADD", ipamConf(), "0a:58:c6:33:64:41", "pod-other"));
  json::object clash = chainedConf(other, "0a:58:c6:33:64:41");
  clash["runtimeConfig"] = conf["runtimeConfig"];
  auto refused = run("ADD", clash, std::nullopt, "pod-other");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.stdout_text.find("held by portmap"), std::string::npos) << refused.stdout_text;

  // A bad mapping is the runtime's error, naming the field.
  json::object bad = conf;
  bad["runtimeConfig"] = json::object{
      {"portMappings", json::array{json::object{{"hostPort", 0}, {"containerPort", 80}}}}};
  auto invalid = run("ADD", bad, std::nullopt, "pod-pm");
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.stdout_text.find("portMappings[0].hostPort"), std::string::npos)
      << invalid.stdout_text;

  mustSucceed(run("DEL", conf, std::nullopt, "pod-pm"));  // chained DEL: the mappings go
  EXPECT_TRUE(
      items(mustGet("/v1/portmaps?binding_id=" + str(liveBinding("pod-pm"), "id"))).empty());
}

TEST_F(CniPluginTest, MacHeldElsewhereStillGivesThePodItsAddress) {
  allocate(obj({{"instance", "vm-holder"}, {"pool", "pods-v4"}, {"mac", kPodMac}}));
  auto result = mustSucceed(run("ADD", ipamConf(), kPodMac, "pod-4"));
  ASSERT_EQ(result.at("ips").as_array().size(), 1u) << result;
  auto b = liveBinding("pod-4");
  EXPECT_TRUE(b.at("mac").is_null()) << b;
  EXPECT_EQ(str(b, "host"), "node-1");
  // As before the IPAM step read MACs: the chained step reports the conflict.
  auto chained = run("ADD", chainedConf(result, kPodMac), std::nullopt, "pod-4");
  EXPECT_NE(chained.exit_code, 0);
  EXPECT_NE(chained.stdout_text.find("vm-holder"), std::string::npos) << chained.stdout_text;
}

// The binary as a runtime execs it: CNI_* in the environment, the configuration on stdin. Its
// own network namespace's loopback is no Ethernet interface: no MAC, the allocation succeeds.
TEST_F(CniPluginTest, BinaryAddWithoutAReadableMac) {
  const std::string bin =
      netledgerdPath().substr(0, netledgerdPath().rfind('/')) + "/netledger-cni";
  const std::string in = server_.root() + "/cni-stdin", out = server_.root() + "/cni-stdout";
  std::ofstream(in) << json::serialize(ipamConf());
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int in_fd = ::open(in.c_str(), O_RDONLY);
    int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in_fd < 0 || out_fd < 0 || ::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0) ::_exit(127);
    const char* argv[] = {bin.c_str(), nullptr};
    const char* envp[] = {
        "CNI_COMMAND=ADD", "CNI_CONTAINERID=pod-bin", "CNI_NETNS=/proc/self/ns/net",
        "CNI_IFNAME=lo",   "CNI_PATH=/usr/lib/cni",   nullptr};
    ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  std::ifstream result_file(out);
  std::string text((std::istreambuf_iterator<char>(result_file)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << bin << ": " << text;
  auto result = parseJson(text);
  EXPECT_EQ(str(result.at("ips").at(0), "gateway"), "198.51.100.1") << text;
  auto b = liveBinding("pod-bin");
  EXPECT_TRUE(b.at("mac").is_null()) << b;
  EXPECT_EQ(str(b, "interface"), "lo");
  EXPECT_EQ(requests("/v1/pools/{name}", "GET"), 0);
}

}  // namespace
}  // namespace netledger::it
