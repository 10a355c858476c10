#pragma once
// EtcdTestCluster: real etcd members (Debian's etcd-server) on free loopback ports, in a
// temporary directory, started by the test and killed with it. Members can be killed with
// SIGKILL and restarted on their data, for fault tests.
//
//   EtcdTestCluster cluster(3);
//   ASSERT_TRUE(cluster.start()) << cluster.error();
//   auto store = ledger::openStore(cluster.url("t1"));

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace netledger::testing_etcd {

class EtcdTestCluster {
 public:
  explicit EtcdTestCluster(int members = 1) : members_(static_cast<std::size_t>(members)) {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("netledger-etcd-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    for (auto& m : members_) {
      m.client_port = freePort();
      m.peer_port = freePort();
    }
  }
  ~EtcdTestCluster() {
    for (std::size_t i = 0; i < members_.size(); ++i) kill(i);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  EtcdTestCluster(const EtcdTestCluster&) = delete;
  EtcdTestCluster& operator=(const EtcdTestCluster&) = delete;

  // Starts every member and waits until the cluster answers (15 s at most).
  bool start() {
    for (std::size_t i = 0; i < members_.size(); ++i) launch(i, "new");
    return waitHealthy();
  }
  // SIGKILL, as a crash: no shutdown, no flush.
  void kill(std::size_t i) {
    if (members_[i].pid <= 0) return;
    ::kill(members_[i].pid, SIGKILL);
    int status = 0;
    waitpid(members_[i].pid, &status, 0);
    members_[i].pid = -1;
  }
  // Starts a killed member again on its data directory.
  bool restart(std::size_t i) {
    launch(i, "existing");
    return waitHealthy();
  }

  // SIGSTOP / SIGCONT: a member that stops answering without dying (a GC pause, a hung disk).
  void pause(std::size_t i) { ::kill(members_[i].pid, SIGSTOP); }
  void resume(std::size_t i) { ::kill(members_[i].pid, SIGCONT); }
  std::size_t size() const { return members_.size(); }
  // The member that is raft leader now, by etcdctl's endpoint status; -1 when none answers.
  int leader() const {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].pid <= 0) continue;
      const std::string cmd =
          "ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:" + std::to_string(members_[i].client_port) +
          " --command-timeout=1s endpoint status -w json 2>/dev/null";
      FILE* p = ::popen(cmd.c_str(), "r");
      if (p == nullptr) continue;
      std::string out;
      char buf[1024];
      while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
      ::pclose(p);
      // {"header":{..."member_id":M,...},..."leader":L,...}: the leader answers M == L.
      auto number = [&](const std::string& field) {
        std::size_t at = out.find("\"" + field + "\":");
        return at == std::string::npos
                   ? std::string()
                   : out.substr(at + field.size() + 3,
                                out.find_first_of(",}", at) - at - field.size() - 3);
      };
      if (!number("member_id").empty() && number("member_id") == number("leader")) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  std::string endpoints() const {
    std::string out;
    for (const auto& m : members_) {
      out += (out.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(m.client_port);
    }
    return out;
  }
  std::string url(const std::string& prefix = "netledger") const {
    return "etcd://" + endpoints() + "/" + prefix;
  }
  const std::string& error() const { return error_; }
  std::filesystem::path dir() const { return dir_; }

 private:
  struct Member {
    int client_port = 0, peer_port = 0;
    pid_t pid = -1;
  };

  static int freePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
  }

  std::string initialCluster() const {
    std::string out;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      out += (out.empty() ? "" : ",") + name(i) +
             "=http://127.0.0.1:" + std::to_string(members_[i].peer_port);
    }
    return out;
  }
  static std::string name(std::size_t i) { return "m" + std::to_string(i); }

  void launch(std::size_t i, const std::string& state) {
    const Member& m = members_[i];
    const std::string client = "http://127.0.0.1:" + std::to_string(m.client_port);
    const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
    std::vector<std::string> args = {"etcd",
                                     "--name",
                                     name(i),
                                     "--data-dir",
                                     (dir_ / name(i)).string(),
                                     "--listen-client-urls",
                                     client,
                                     "--advertise-client-urls",
                                     client,
                                     "--listen-peer-urls",
                                     peer,
                                     "--initial-advertise-peer-urls",
                                     peer,
                                     "--initial-cluster",
                                     initialCluster(),
                                     "--initial-cluster-state",
                                     state,
                                     "--initial-cluster-token",
                                     dir_.filename().string(),
                                     "--logger",
                                     "zap",
                                     "--log-outputs",
                                     (dir_ / (name(i) + ".log")).string()};
    // Built before fork: the child of a threaded process may only make async-signal-safe calls.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the test, even when it aborts
      if (getppid() != parent) _exit(126);
      int null = open("/dev/null", O_RDWR);
      dup2(null, 1);
      dup2(null, 2);
      execvp("etcd", argv.data());
      _exit(127);
    }
    members_[i].pid = pid;
  }

  bool waitHealthy() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    const std::string cmd = "ETCDCTL_API=3 etcdctl --endpoints=" + endpoints() +
                            " --command-timeout=1s put /netledger-health ok >/dev/null 2>&1";
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::system(cmd.c_str()) == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    error_ = "etcd did not become healthy in 15 s (is etcd-server installed? logs in " +
             dir_.string() + ")";
    return false;
  }

  std::vector<Member> members_;
  std::filesystem::path dir_;
  std::string error_;
};

}  // namespace netledger::testing_etcd
