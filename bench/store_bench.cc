// Store benchmarks (targets in docs/PERFORMANCE.md): the committer's apply() throughput with
// realistic batches (64 binding puts + 64 events of 4 history keys, one fsync each), and
// start-up: load() of 1 M bindings. Under Google Benchmark only the apply case runs (the 1 M
// build takes a while); `store_bench --headline` runs both once and prints `name: value unit`
// lines.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ledger/store.h"
#include "store/sqlite/sqlite_store.h"

namespace netledger {
namespace {

using ledger::Write;
using store::SqliteStore;

constexpr std::size_t kBindingsPerBatch = 64;
constexpr std::size_t kKeysPerEvent = 4;
// One binding row, one event row and its key rows per allocation.
constexpr std::size_t kRowsPerBatch = kBindingsPerBatch * (2 + kKeysPerEvent);

// A scratch directory on the real filesystem (fsync must cost what it costs in production).
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/netledger-store-bench-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path_ = buf.data();
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A pod-like binding: MAC from a pool, one IPv4 and one IPv6 address, two labels.
ledger::BindingRecord makeBinding(std::uint64_t id) {
  ledger::BindingRecord b;
  b.id = id;
  b.instance = "pod-" + std::to_string(id);
  b.mac = addr::Mac(0x0242'ac00'0000ull + id);
  b.mac_pool = "macs";
  auto v4 = addr::IpAddress(addr::Ipv4(0x0a00'0000u + static_cast<std::uint32_t>(id)));
  auto v6 = addr::IpAddress::fromBits(addr::IpFamily::kV6,
                                      (addr::uint128(0xfd00'0000'0000'0000ull) << 64) + id);
  b.addresses = {{v4, "pods"}, {v6, "pods-v6"}};
  b.host = "node-" + std::to_string(id % 100);
  b.service = "svc-" + std::to_string(id % 50);
  b.tenant = "acme";
  b.labels = {{"app", "web-" + std::to_string(id % 20)}, {"team", "core"}};
  b.created_at = b.updated_at = 1'700'000'000'000 + static_cast<std::int64_t>(id);
  b.version = 1;
  return b;
}

ledger::EventRecord makeEvent(std::uint64_t seq, const ledger::BindingRecord& b) {
  ledger::EventRecord e;
  e.seq = seq;
  e.time = b.created_at;
  e.actor = "cni";
  e.op = "binding.allocate";
  e.subject = "binding:" + std::to_string(b.id);
  e.keys = {"ip:" + b.addresses[0].ip.toString(), "ip:" + b.addresses[1].ip.toString(),
            "mac:" + b.mac->toString(), "instance:" + b.instance};
  e.after = R"({"id":)" + std::to_string(b.id) + R"(,"instance":")" + b.instance + R"("})";
  return e;
}

// Batch number `n` (0-based): bindings and events numbered on from n * 64 + 1.
std::vector<Write> allocationBatch(std::uint64_t n) {
  std::vector<Write> batch;
  batch.reserve(2 * kBindingsPerBatch);
  for (std::uint64_t i = 1; i <= kBindingsPerBatch; ++i) {
    std::uint64_t id = n * kBindingsPerBatch + i;
    auto b = makeBinding(id);
    batch.push_back(ledger::AppendEvent{makeEvent(id, b)});
    batch.push_back(ledger::PutBinding{std::move(b), 0});
  }
  return batch;
}

std::unique_ptr<SqliteStore> openOrDie(const std::string& path) {
  auto s = SqliteStore::open(path);
  if (!s) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), s.status().toString().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

void applyOrDie(SqliteStore& store, const std::vector<Write>& batch) {
  Status s = store.apply(batch);
  if (!s.isOk()) {
    std::fprintf(stderr, "apply: %s\n", s.toString().c_str());
    std::exit(1);
  }
}

void BM_SqliteApplyAllocationBatch(benchmark::State& state) {
  ScratchDir dir;
  auto store = openOrDie(dir.file("ledger.db"));
  std::uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();  // building the records is the Ledger's work, not the store's
    auto batch = allocationBatch(n++);
    state.ResumeTiming();
    applyOrDie(*store, batch);
  }
  double batches = static_cast<double>(state.iterations());
  state.counters["store_apply_batches_per_s"] =
      benchmark::Counter(batches, benchmark::Counter::kIsRate);
  state.counters["store_apply_bindings_per_s"] =
      benchmark::Counter(batches * kBindingsPerBatch, benchmark::Counter::kIsRate);
  state.counters["store_apply_rows_per_s"] =
      benchmark::Counter(batches * kRowsPerBatch, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SqliteApplyAllocationBatch)->UseRealTime()->Unit(benchmark::kMillisecond);

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// --headline: apply throughput for ~3 s, then build 1 M bindings (batches of 10,000) and time a
// fresh open + load() of them.
int headline() {
  ScratchDir dir;
  {
    auto store = openOrDie(dir.file("apply.db"));
    std::vector<std::vector<Write>> batches;
    for (std::uint64_t n = 0; n < 2000; ++n) batches.push_back(allocationBatch(n));
    std::size_t done = 0;
    auto start = std::chrono::steady_clock::now();
    while (done < batches.size() && (done < 50 || secondsSince(start) < 3.0)) {
      applyOrDie(*store, batches[done++]);
    }
    double s = secondsSince(start);
    double per_s = static_cast<double>(done) / s;
    std::printf("store_apply_batches_per_s: %.0f 1/s\n", per_s);
    std::printf("store_apply_bindings_per_s: %.0f 1/s\n", per_s * kBindingsPerBatch);
    std::printf("store_apply_rows_per_s: %.0f 1/s\n", per_s * kRowsPerBatch);
  }

  constexpr std::uint64_t kBindings = 1'000'000, kPerBatch = 10'000;
  std::string path = dir.file("load.db");
  {
    auto store = openOrDie(path);
    auto start = std::chrono::steady_clock::now();
    for (std::uint64_t first = 1; first <= kBindings; first += kPerBatch) {
      std::vector<Write> batch;
      batch.reserve(kPerBatch);
      for (std::uint64_t id = first; id < first + kPerBatch; ++id) {
        batch.push_back(ledger::PutBinding{makeBinding(id), 0});
      }
      applyOrDie(*store, batch);
    }
    std::printf("store_build_1m_bindings_s: %.2f s\n", secondsSince(start));
  }
  auto start = std::chrono::steady_clock::now();
  auto store = openOrDie(path);
  auto state = store->load();
  double s = secondsSince(start);
  if (!state || state->bindings.size() != kBindings) {
    std::fprintf(stderr, "load: %s\n",
                 state ? "wrong binding count" : state.status().toString().c_str());
    return 1;
  }
  std::printf("store_load_1m_bindings_s: %.3f s\n", s);
  std::printf("store_db_bytes_per_binding: %.0f bytes\n",
              static_cast<double>(std::filesystem::file_size(path)) / kBindings);
  return 0;
}

}  // namespace
}  // namespace netledger

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--headline") == 0) return netledger::headline();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
