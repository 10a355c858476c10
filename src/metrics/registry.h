#pragma once
// A small Prometheus registry: counters, gauges, histograms (with labels) and gauges computed at
// scrape time, rendered in text exposition format 0.0.4.
//
// Why our own and not prometheus-cpp: it is not packaged in Debian 12, and what the server needs
// is ~300 lines. The hot path is what matters: once a label set exists, an observation is one or
// two relaxed atomic adds, and finding the child for a label set takes a shared lock and a hash
// lookup without allocating (callers on very hot paths can keep the returned reference instead).
//
// Thread safety: everything here may be used from any thread. References returned by the
// registry and its families stay valid for the registry's lifetime.
//
// Definitions are code, not input: an invalid metric or label name, re-registering a name with a
// different type, help or label names, or passing the wrong number of label values is a
// programming bug and aborts with a message (like accessing an error Result), so it is caught by
// the first test that touches it rather than producing a silently broken scrape.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace netledger::metrics {

// One sample's rendering hook; the concrete kinds below implement it.
class Metric {
 public:
  virtual ~Metric() = default;
  // Appends this metric's sample lines. `labels` is the rendered label list without braces
  // (`a="x",b="y"`, possibly empty).
  virtual void render(std::string& out, std::string_view name, std::string_view labels) const = 0;
};

// Monotonic count. Integer so that inc() is a single `lock xadd`.
class Counter final : public Metric {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }
  void render(std::string& out, std::string_view name, std::string_view labels) const override;

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge final : public Metric {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
  void inc() noexcept { add(1); }
  void dec() noexcept { add(-1); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }
  void render(std::string& out, std::string_view name, std::string_view labels) const override;

 private:
  std::atomic<double> value_{0};
};

// Fixed-bucket histogram. Buckets are stored non-cumulative (one atomic add per observation)
// and summed at render time; _count is the sum of the buckets, so it always equals the +Inf
// bucket even while observations race with a scrape.
class Histogram final : public Metric {
 public:
  // `bounds` (ascending upper bounds, without +Inf) must outlive the histogram; the family owns it.
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double value) noexcept;
  std::uint64_t count() const noexcept;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  void render(std::string& out, std::string_view name, std::string_view labels) const override;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (last is +Inf)
  std::atomic<double> sum_{0};
};

// Evaluated at scrape time (pool utilization, queue depth...). The function runs on the scraping
// thread while the registry is locked, so it must be quick and must not register metrics.
class CallbackGauge final : public Metric {
 public:
  explicit CallbackGauge(std::function<double()> fn) : fn_(std::move(fn)) {}
  void render(std::string& out, std::string_view name, std::string_view labels) const override;

 private:
  std::function<double()> fn_;
};

enum class MetricType { kCounter, kGauge, kHistogram };

// The label-less part of a family: name, help, label names, and the children by label values.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> labelNames);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& labelNames() const { return labelNames_; }

  // Appends HELP, TYPE and every child's samples (children sorted by label values).
  void render(std::string& out) const;

 protected:
  friend class Registry;  // adds callback gauges, whose children are not default-constructible

  // The child for these label values, created with `make` when absent. Aborts on a wrong count.
  Metric& child(std::span<const std::string_view> values,
                const std::function<std::unique_ptr<Metric>()>& make);

 private:
  struct Child {
    std::vector<std::string> values;
    std::string renderedLabels;
    std::unique_ptr<Metric> metric;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };

  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> labelNames_;
  mutable std::shared_mutex mutex_;
  std::vector<std::unique_ptr<Child>> children_;
  // Key: the label values, each length-prefixed, so that distinct value lists never collide.
  std::unordered_map<std::string, Child*, KeyHash, std::equal_to<>> byKey_;
};

// A family of one metric kind. labels() takes the values in the order of the label names given
// at registration.
template <typename M>
class Family final : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  M& labels(std::span<const std::string_view> values) {
    return static_cast<M&>(child(values, [this] { return makeMetric(); }));
  }
  M& labels(std::initializer_list<std::string_view> values) {
    return labels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  // The single child of a family without labels.
  M& get() { return labels(std::span<const std::string_view>()); }

  void setBuckets(std::vector<double> bounds) { bounds_ = std::move(bounds); }
  const std::vector<double>& buckets() const { return bounds_; }

 private:
  std::unique_ptr<Metric> makeMetric() const {
    if constexpr (std::is_same_v<M, Histogram>) {
      return std::make_unique<Histogram>(bounds_);
    } else {
      return std::make_unique<M>();
    }
  }

  std::vector<double> bounds_;  // histograms only; fixed before the first child exists
};

// Latency buckets in seconds: 0.5 ms .. 5 s, roughly 1-2.5-5 per decade.
std::vector<double> defaultLatencyBuckets();

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering the same name again with the same definition returns the existing family.
  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> labelNames = {});
  Family<Gauge>& gauge(std::string name, std::string help,
                       std::vector<std::string> labelNames = {});
  // `buckets`: strictly increasing finite upper bounds; +Inf is implicit.
  Family<Histogram>& histogram(std::string name, std::string help,
                               std::vector<std::string> labelNames,
                               std::vector<double> buckets = defaultLatencyBuckets());

  // A gauge whose value is computed by `fn` at scrape time. Several calls with the same name and
  // label names but different label values make one family with several samples.
  void gaugeCallback(std::string name, std::string help, std::function<double()> fn,
                     std::vector<std::pair<std::string, std::string>> labels = {});
  // The same for a counter kept elsewhere (an atomic of another module): `fn` must never
  // decrease.
  void counterCallback(std::string name, std::string help, std::function<double()> fn,
                       std::vector<std::pair<std::string, std::string>> labels = {});

  // The whole registry in text exposition format 0.0.4, families in registration order.
  std::string render() const;

  // The Content-Type a /metrics response must carry.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void callback(MetricType type, std::string name, std::string help, std::function<double()> fn,
                std::vector<std::pair<std::string, std::string>> labels);
  template <typename F>
  F& findOrAdd(std::string name, std::string help, MetricType type,
               std::vector<std::string> labelNames, std::vector<double> buckets);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

// Text-format escaping, exposed for tests: label values escape \, " and newline; HELP text
// escapes \ and newline.
std::string escapeLabelValue(std::string_view value);
std::string escapeHelp(std::string_view help);
// Prometheus float text: shortest round-trip form, "+Inf", "-Inf", "NaN".
std::string formatValue(double value);

}  // namespace netledger::metrics
