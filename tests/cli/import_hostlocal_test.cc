// `netledger import host-local DIR`: reading a host-local store from a temporary directory, and
// the requests the command sends for it (against the scripted server of fake_http_server.h,
// which here keeps bindings by (instance, interface) the way netledgerd does).
#include "cli/import_hostlocal.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "cli/cli_run.h"
#include "cli/fake_http_server.h"

namespace netledger::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::FakeHttpServer;
using testing::jsonResponse;
using testing::problemResponse;
using testing::SeenRequest;

class HostLocalDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "netledger-hostlocal-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }
  HostLocalStore read() {
    auto r = readHostLocalStore(dir_.string());
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : HostLocalStore{};
  }
  // What a host-local store of network "pods" looks like after three ADDs, one dual stack.
  void writeStore() {
    write("198.51.100.2", "c0ffee01\r\neth0");
    write("198.51.100.3", "c0ffee02\r\nnet1");
    write("2001:db8:1::2", "c0ffee01\r\neth0");
    write("198.51.100.4", "c0ffee03");  // before CNI plugins 0.8: the container id only
    write("last_reserved_ip.0", "198.51.100.4");
    write("last_reserved_ip.1", "2001:db8:1::2");
    write("lock", "");
  }
  fs::path dir_;
};

TEST_F(HostLocalDir, ReadsAllocationsAndSkipsBookkeeping) {
  writeStore();
  auto store = read();
  EXPECT_TRUE(store.problems.empty());
  ASSERT_EQ(store.entries.size(), 4u);
  EXPECT_EQ(store.entries[0].address.toString(), "198.51.100.2");
  EXPECT_EQ(store.entries[0].instance, "c0ffee01");
  EXPECT_EQ(store.entries[0].interface, "eth0");
  EXPECT_EQ(store.entries[1].interface, "net1");
  EXPECT_EQ(store.entries[2].instance, "c0ffee03");
  EXPECT_EQ(store.entries[2].interface, "eth0") << "the old format has no ifname";
  EXPECT_EQ(store.entries[3].address.toString(), "2001:db8:1::2");
  EXPECT_EQ(store.entries[3].instance, "c0ffee01");
}

TEST_F(HostLocalDir, GarbageFilesAreReportedNotFatal) {
  write("198.51.100.2", "c0ffee01\r\neth0");
  write("README", "not an allocation");
  write("198.51.100.300", "c0ffee09\r\neth0");
  write("198.51.100.5", std::string("\x00\x01\xff\xfe binary", 11));
  write("198.51.100.6", "");
  write("198.51.100.7", "c0ffee07\r\neth0\r\nextra\r\n");
  write("198.51.100.8", std::string(5000, 'a'));
  write("198.51.100.9", "c0ffee\x1b[31m\r\neth0");
  write("198.51.100.10", "\r\n\r\n");
  fs::create_directory(dir_ / "198.51.100.11");
  write("198.51.100.12", "c0ffee12\n");  // a plain newline and no ifname: still fine
  auto store = read();
  ASSERT_EQ(store.entries.size(), 2u);
  EXPECT_EQ(store.entries[0].address.toString(), "198.51.100.12");
  EXPECT_EQ(store.entries[0].interface, "eth0");
  EXPECT_EQ(store.entries[1].address.toString(), "198.51.100.2");
  std::map<std::string, std::string> problems;
  for (const auto& p : store.problems) problems[p.file] = p.reason;
  ASSERT_EQ(problems.size(), 9u);
  EXPECT_NE(problems["README"].find("not an IP address"), std::string::npos);
  EXPECT_NE(problems["198.51.100.300"].find("not an IP address"), std::string::npos);
  EXPECT_NE(problems["198.51.100.5"].find("printable"), std::string::npos);
  EXPECT_NE(problems["198.51.100.6"].find("empty"), std::string::npos);
  EXPECT_NE(problems["198.51.100.7"].find("more than two lines"), std::string::npos);
  EXPECT_NE(problems["198.51.100.8"].find("too large"), std::string::npos);
  EXPECT_NE(problems["198.51.100.9"].find("printable"), std::string::npos);
  EXPECT_NE(problems["198.51.100.10"].find("empty"), std::string::npos);
  EXPECT_NE(problems["198.51.100.11"].find("not a regular file"), std::string::npos);
  for (const auto& [file, reason] : problems) {
    EXPECT_EQ(reason.rfind("content:", 0) == 0 || file == "README" || file == "198.51.100.300" ||
                  file == "198.51.100.8" || file == "198.51.100.11",
              true)
        << file << ": " << reason;
  }
}

TEST_F(HostLocalDir, AMissingDirectoryIsAUsageError) {
  EXPECT_EQ(readHostLocalStore((dir_ / "nope").string()).status().code(),
            StatusCode::kInvalidArgument);
  CliRun r = run({"import", "host-local", (dir_ / "nope").string(), "--server",
                  "http://127.0.0.1:1", "--token", "t"});
  EXPECT_EQ(r.code, kExitUsage) << r.err;
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
}

TEST_F(HostLocalDir, DryRunListsTheStoreWithoutAServer) {
  writeStore();
  CliRun r = run({"import", "host-local", dir_.string(), "--dry-run", "-o", "json", "--server",
                  "http://127.0.0.1:1"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  auto v = json::parse(r.out);
  ASSERT_EQ(v.at("items").as_array().size(), 4u);
  EXPECT_EQ(v.at("items").as_array()[1],
            json::parse(R"({"file":"198.51.100.3","address":"198.51.100.3",
                            "instance":"c0ffee02","interface":"net1"})"));
}

std::string percentDecoded(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// netledgerd's allocate semantics, as far as the import uses them: (instance, interface) is the
// key (200 with the existing binding), an explicit address must be free, moves and releases.
class BindingServer {
 public:
  std::string handle(const SeenRequest& req) {
    std::lock_guard lock(mu_);
    if (req.method == "GET" && req.target == "/v1/pools") {
      return jsonResponse(200, R"({"items":[
        {"name":"pods-v4","cidrs":["198.51.100.0/24"]},
        {"name":"pods-v6","cidrs":["2001:db8:1::/64"]},
        {"name":"other","cidrs":["203.0.113.0/24"]}]})");
    }
    if (req.method == "POST" && req.target == "/v1/bindings") {
      auto body = json::parse(req.body).as_object();
      std::string key = std::string(body.at("instance").as_string()) + "/" +
                        std::string(body.at("interface").as_string());
      if (auto it = by_key_.find(key); it != by_key_.end()) {
        return jsonResponse(200, json::serialize(bindings_.at(it->second)));
      }
      std::string ip(body.at("address").as_string());
      for (const auto& [id, b] : bindings_) {
        for (const auto& a : b.at("addresses").as_array()) {
          if (a.as_string() == ip) {
            return problemResponse(409, "conflict", "address: " + ip + " is held by binding " + id);
          }
        }
      }
      std::string id = std::to_string(++last_id_);
      json::object b{{"id", id},
                     {"instance", body.at("instance")},
                     {"interface", body.at("interface")},
                     {"pool", body.at("pool")},
                     {"addresses", json::array{json::value(ip)}}};
      if (body.contains("host")) b["host"] = body.at("host");
      bindings_[id] = b;
      by_key_[key] = id;
      return jsonResponse(201, json::serialize(b));
    }
    if (req.method == "POST" && req.target.rfind("/v1/addresses/", 0) == 0) {
      const std::string decoded = percentDecoded(req.target.substr(14, req.target.size() - 19));
      std::string to(json::parse(req.body).at("to").as_string());
      for (auto& [id, b] : bindings_) {
        auto& addresses = b.at("addresses").as_array();
        for (auto it = addresses.begin(); it != addresses.end(); ++it) {
          if (it->as_string() == decoded) {
            addresses.erase(it);
            bindings_.at(to).at("addresses").as_array().emplace_back(decoded);
            return jsonResponse(200, json::serialize(bindings_.at(to)));
          }
        }
      }
      return problemResponse(404, "not_found", "address " + decoded + " is not held");
    }
    if (req.method == "DELETE" && req.target.rfind("/v1/bindings/", 0) == 0) {
      std::string id = req.target.substr(13);
      auto b = bindings_.at(id);
      by_key_.erase(std::string(b.at("instance").as_string()) + "/" +
                    std::string(b.at("interface").as_string()));
      bindings_.erase(id);
      return jsonResponse(200, json::serialize(b));
    }
    return problemResponse(404, "not_found", req.target);
  }
  std::map<std::string, json::object> bindings() {
    std::lock_guard lock(mu_);
    return bindings_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, json::object> bindings_;
  std::map<std::string, std::string> by_key_;
  int last_id_ = 0;
};

TEST_F(HostLocalDir, ImportsOnceThenCountsUnchanged) {
  writeStore();
  write("203.0.113.9", "c0ffee09\r\neth0");  // in a pool, but not one of --pool's
  write("192.0.2.9", "c0ffee10\r\neth0");    // in no pool at all
  write("garbage", "x");
  BindingServer state;
  FakeHttpServer server([&](const SeenRequest& req) { return state.handle(req); });
  auto import = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"import", "host-local", dir_.string(), "--host",     "node-1",
                                     "-o",     "json",       "--server",    server.url(), "--token",
                                     "t"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  };

  CliRun first = import({});
  EXPECT_EQ(first.code, kExitFailure) << "failures must show in the exit code";
  auto v = json::parse(first.out);
  EXPECT_EQ(v.at("imported").as_array().size(), 5u) << first.out;
  EXPECT_EQ(v.at("unchanged").as_array().size(), 0u);
  ASSERT_EQ(v.at("failed").as_array().size(), 2u) << first.out;
  EXPECT_NE(first.err.find("garbage: the name is not an IP address"), std::string::npos)
      << first.err;
  EXPECT_NE(first.err.find("no pool contains 192.0.2.9"), std::string::npos) << first.err;

  // The dual-stack container holds both of its addresses on one binding; no helper remains.
  auto bindings = state.bindings();
  ASSERT_EQ(bindings.size(), 4u);
  bool dual = false;
  for (const auto& [id, b] : bindings) {
    EXPECT_EQ(b.at("host"), "node-1");
    if (b.at("instance") == "c0ffee01") {
      dual = true;
      EXPECT_EQ(b.at("addresses"), json::parse(R"(["198.51.100.2","2001:db8:1::2"])"));
    }
    if (b.at("instance") == "c0ffee02") {
      EXPECT_EQ(b.at("interface"), "net1");
    }
    if (b.at("instance") == "c0ffee03") {
      EXPECT_EQ(b.at("interface"), "eth0");
    }
    if (b.at("instance") == "c0ffee09") {
      EXPECT_EQ(b.at("pool"), "other");
    }
  }
  EXPECT_TRUE(dual);

  // Again: nothing new, everything counted as unchanged.
  CliRun again = import({});
  v = json::parse(again.out);
  EXPECT_EQ(v.at("imported").as_array().size(), 0u) << again.out;
  EXPECT_EQ(v.at("unchanged").as_array().size(), 5u) << again.out;
  EXPECT_EQ(v.at("failed").as_array().size(), 2u);
  EXPECT_EQ(state.bindings().size(), 4u);

  // --pool limits where addresses may go; a pool that does not exist is a usage error.
  CliRun limited = import({"--pool", "pods-v4", "--pool", "pods-v6"});
  EXPECT_NE(limited.err.find("none of the --pool pools contains 203.0.113.9"), std::string::npos)
      << limited.err;
  CliRun missing = import({"--pool", "nope"});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_NE(missing.err.find("--pool: pool \"nope\" not found"), std::string::npos) << missing.err;

  // The text summary.
  auto text =
      run({"import", "host-local", dir_.string(), "--server", server.url(), "--token", "t"});
  EXPECT_NE(text.out.find("import host-local: 0 imported, 5 unchanged, 2 failed"),
            std::string::npos)
      << text.out;
}

}  // namespace
}  // namespace netledger::cli
