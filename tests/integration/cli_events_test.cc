// `netledger events` against the real daemon: it follows the stream live, filters by type,
// resumes after the daemon restarts without losing or repeating an event, and ends cleanly on
// Ctrl-C (the real binary, a real SIGINT). `netledger observe -` reads stdin (the real binary).
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <future>
#include <set>
#include <sstream>

#include "integration/cli_fixture.h"
#include "testing/eventually.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

class CliEventsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    createPool(obj({{"name", "vms"}, {"cidr", "192.0.2.0/24"}}));
  }
  void alloc(const std::string& instance) {
    allocate(obj({{"instance", instance}, {"pool", "vms"}}));
  }
  // The id of the newest event: `events --since` it replays whatever comes after.
  std::string lastEventId() {
    return std::to_string(num(items(mustGet("/v1/audit?limit=1"))[0], "seq"));
  }
  // Runs `events` on a thread; gives up (Ctrl-C, as a user would) after `limit`.
  std::future<std::tuple<int, std::string, std::string>> follow(std::vector<std::string> args) {
    return std::async(std::launch::async, [this, args] { return cli(args); });
  }
  static std::tuple<int, std::string, std::string> finish(
      std::future<std::tuple<int, std::string, std::string>>& f) {
    if (f.wait_for(30s) != std::future_status::ready) {
      ADD_FAILURE() << "events did not end by itself";
      // Ctrl-C ends the stream, as a user would; never the default action (the whole test
      // binary) in case the command's handler is not in place at that instant.
      struct sigaction ignore {};
      ignore.sa_handler = [](int) {};
      struct sigaction before {};
      sigaction(SIGINT, nullptr, &before);
      if (before.sa_handler == SIG_DFL) sigaction(SIGINT, &ignore, nullptr);
      while (f.wait_for(100ms) != std::future_status::ready) std::raise(SIGINT);
    }
    return f.get();
  }
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST_F(CliEventsTest, FollowsLiveFilteredByType) {
  const std::string since = lastEventId();
  auto f =
      follow({"-o", "json", "events", "--types", "binding.*", "--since", since, "--count", "2"});
  mustPost("/v1/pools", obj({{"name", "other"}, {"cidr", "198.51.100.0/24"}}));  // not a binding
  alloc("vm-1");
  alloc("vm-2");
  auto [code, out, err] = finish(f);
  ASSERT_EQ(code, 0) << err;
  auto got = lines(out);
  ASSERT_EQ(got.size(), 2u) << out;
  EXPECT_EQ(str(parseJson(got[0]), "op"), "binding.allocate");
  EXPECT_EQ(str(parseJson(got[0]).at("after"), "instance"), "vm-1");
  EXPECT_EQ(str(parseJson(got[1]).at("after"), "instance"), "vm-2");
}

TEST_F(CliEventsTest, ResumesAfterTheDaemonRestarts) {
  server_.keepPort();
  const std::string since = lastEventId();
  auto f = follow({"events", "--types", "binding.*", "--since", since, "--count", "3"});
  alloc("vm-1");
  ASSERT_TRUE(testing_util::eventually(
      [&] { return items(mustGet("/v1/audit?op=binding.allocate")).size() == 1; }, 5s));
  server_.restart();
  api_ = server_.client();
  alloc("vm-2");
  alloc("vm-3");
  auto [code, out, err] = finish(f);
  ASSERT_EQ(code, 0) << err;
  auto got = lines(out);
  ASSERT_EQ(got.size(), 3u) << out;
  std::set<std::string> ids;
  for (const auto& l : got) {
    EXPECT_NE(l.find("binding.allocate"), std::string::npos) << l;
    ids.insert(l.substr(l.rfind("id=")));
  }
  EXPECT_EQ(ids.size(), 3u) << out;  // none twice
  EXPECT_NE(err.find("resuming"), std::string::npos) << err;
}

TEST_F(CliEventsTest, BadFlagsAndRefusedStreams) {
  auto [code, out, err] = cli({"events", "--count", "0"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("--count"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"events", "--types", "no such type!"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("types"), std::string::npos) << err;
  std::tie(code, out, err) = cliAs("not-a-token", {"events"});
  EXPECT_EQ(code, 1);  // 401 is not retried
  EXPECT_NE(err.find("unauthorized"), std::string::npos) << err;
}

// A child `netledger` with its stdin and stdout on pipes.
struct Child {
  pid_t pid = -1;
  int in = -1, out = -1;
};

Child spawnCli(const std::vector<std::string>& args, const std::string& url,
               const std::string& token) {
  int in[2], out[2];
  EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::vector<std::string> argv_s = {netledgerCliPath()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string env_url = "NETLEDGER_URL=" + url, env_token = "NETLEDGER_TOKEN=" + token;
  char* envp[] = {env_url.data(), env_token.data(), nullptr};
  Child c;
  EXPECT_EQ(posix_spawn(&c.pid, argv[0], &actions, nullptr, argv.data(), envp), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  c.in = in[1];
  c.out = out[0];
  return c;
}

// Reads the child's stdout until `part` shows up or `timeout` passes.
std::string readUntil(int fd, const std::string& part, std::chrono::milliseconds timeout = 10s) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.find(part) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

int waitExit(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(50ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -2;  // did not end
}

TEST_F(CliEventsTest, CtrlCEndsTheRealBinaryCleanly) {
  const std::string url = "http://127.0.0.1:" + std::to_string(server_.port());
  Child c = spawnCli({"events", "--types", "binding.*"}, url, server_.adminToken());
  // Subscribed once the stream carries the first event: keep allocating until one is seen.
  std::string got;
  for (int i = 0; i < 20 && got.find("binding.allocate") == std::string::npos; ++i) {
    alloc("vm-" + std::to_string(i));
    got += readUntil(c.out, "binding.allocate", 500ms);
  }
  EXPECT_NE(got.find("binding.allocate"), std::string::npos) << got;
  kill(c.pid, SIGINT);
  EXPECT_EQ(waitExit(c.pid), 0);
  close(c.in);
  close(c.out);
}

TEST_F(CliEventsTest, ObserveReadsStdin) {
  const std::string url = "http://127.0.0.1:" + std::to_string(server_.port());
  Child c = spawnCli({"observe", "-"}, url, server_.adminToken());
  const std::string lines =
      R"({"ip":"192.0.2.77","mac":"02:00:00:00:00:77","kind":"reply","host":"hv1"})"
      "\n"
      R"({"ip":"192.0.2.78","mac":"02:00:00:00:00:78","kind":"reply","host":"hv1"})"
      "\n";
  ASSERT_EQ(write(c.in, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  close(c.in);
  EXPECT_NE(readUntil(c.out, "accepted").find("2 observations accepted"), std::string::npos);
  EXPECT_EQ(waitExit(c.pid), 0);
  close(c.out);
}

}  // namespace
}  // namespace netledger::it
