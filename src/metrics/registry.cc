#include "metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace netledger::metrics {
namespace {

[[noreturn]] void dieOnBadDefinition(std::string_view name, std::string_view why) {
  std::fprintf(stderr, "fatal: metric %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(why.size()), why.data());
  std::abort();
}

bool isNameStart(char c, bool allowColon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allowColon && c == ':');
}

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names the same without ':' and not "__*".
bool isValidName(std::string_view name, bool allowColon) {
  if (name.empty() || !isNameStart(name[0], allowColon)) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return isNameStart(c, allowColon) || (c >= '0' && c <= '9'); });
}

void appendUnsigned(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void appendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    // Plain decimals in the range people read ("0.0005", not "5e-04"), like Go's 'g' format
    // that the Prometheus client libraries use; exponents only for tiny or huge magnitudes.
    double magnitude = std::fabs(v);
    auto format = v == 0 || (magnitude >= 1e-4 && magnitude < 1e21) ? std::chars_format::fixed
                                                                    : std::chars_format::scientific;
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
    out.append(buf, end);
  }
}

// `name{labels} value\n`, leaving out the braces when there are no labels.
void appendSampleStart(std::string& out, std::string_view name, std::string_view suffix,
                       std::string_view labels) {
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
}

std::string_view typeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Length-prefixing makes the key injective: ("a,b") and ("a", "b") never share a key.
void appendKey(std::string& key, std::span<const std::string_view> values) {
  key.clear();
  for (std::string_view v : values) {
    auto n = static_cast<std::uint32_t>(v.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof n);
    key.append(v);
  }
}

}  // namespace

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatValue(double value) {
  std::string out;
  appendValue(out, value);
  return out;
}

std::vector<double> defaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

void Counter::render(std::string& out, std::string_view name, std::string_view labels) const {
  appendSampleStart(out, name, "", labels);
  appendUnsigned(out, value());
  out += '\n';
}

void Gauge::render(std::string& out, std::string_view name, std::string_view labels) const {
  appendSampleStart(out, name, "", labels);
  appendValue(out, value());
  out += '\n';
}

void CallbackGauge::render(std::string& out, std::string_view name, std::string_view labels) const {
  appendSampleStart(out, name, "", labels);
  appendValue(out, fn_ ? fn_() : std::nan(""));
  out += '\n';
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) noexcept {
  // Buckets are few (~13): a linear scan beats binary search and is branch-predictable, since
  // most latencies land in the first buckets.
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::uint64_t Histogram::count() const noexcept {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
  }
  return total;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  std::string bucketLabels(labels);
  if (!bucketLabels.empty()) bucketLabels += ',';
  const std::size_t prefix = bucketLabels.size();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    bucketLabels.resize(prefix);
    bucketLabels += "le=\"";
    appendValue(bucketLabels, i < bounds_.size() ? bounds_[i] : INFINITY);
    bucketLabels += '"';
    appendSampleStart(out, name, "_bucket", bucketLabels);
    appendUnsigned(out, cumulative);
    out += '\n';
  }
  appendSampleStart(out, name, "_sum", labels);
  appendValue(out, sum());
  out += '\n';
  appendSampleStart(out, name, "_count", labels);
  appendUnsigned(out, cumulative);
  out += '\n';
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> labelNames)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      labelNames_(std::move(labelNames)) {}

Metric& FamilyBase::child(std::span<const std::string_view> values,
                          const std::function<std::unique_ptr<Metric>()>& make) {
  if (values.size() != labelNames_.size()) {
    dieOnBadDefinition(name_, "wrong number of label values");
  }
  // One buffer per thread: after warm-up, looking up an existing child never allocates.
  thread_local std::string key;
  appendKey(key, values);
  {
    std::shared_lock lock(mutex_);
    auto it = byKey_.find(std::string_view(key));
    if (it != byKey_.end()) return *it->second->metric;
  }
  std::unique_lock lock(mutex_);
  auto it = byKey_.find(std::string_view(key));
  if (it != byKey_.end()) return *it->second->metric;
  auto c = std::make_unique<Child>();
  for (std::size_t i = 0; i < values.size(); ++i) {
    c->values.emplace_back(values[i]);
    if (i > 0) c->renderedLabels += ',';
    c->renderedLabels += labelNames_[i];
    c->renderedLabels += "=\"";
    c->renderedLabels += escapeLabelValue(values[i]);
    c->renderedLabels += '"';
  }
  c->metric = make();
  Child* raw = c.get();
  children_.push_back(std::move(c));
  byKey_.emplace(key, raw);
  return *raw->metric;
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escapeHelp(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += typeName(type_);
  out += '\n';
  std::shared_lock lock(mutex_);
  std::vector<const Child*> sorted;
  sorted.reserve(children_.size());
  for (const auto& c : children_) sorted.push_back(c.get());
  // Sorted output keeps scrapes diffable and tests deterministic.
  std::sort(sorted.begin(), sorted.end(),
            [](const Child* a, const Child* b) { return a->values < b->values; });
  for (const Child* c : sorted) c->metric->render(out, name_, c->renderedLabels);
}

Registry::Registry() = default;
Registry::~Registry() = default;

template <typename F>
F& Registry::findOrAdd(std::string name, std::string help, MetricType type,
                       std::vector<std::string> labelNames, std::vector<double> buckets) {
  if (!isValidName(name, /*allowColon=*/true)) dieOnBadDefinition(name, "invalid metric name");
  for (const std::string& label : labelNames) {
    if (!isValidName(label, /*allowColon=*/false) || label.starts_with("__") ||
        (type == MetricType::kHistogram && label == "le")) {
      dieOnBadDefinition(name, "invalid label name " + label);
    }
  }
  if (type == MetricType::kHistogram) {
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      if (!std::isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
        dieOnBadDefinition(name, "buckets must be finite and strictly increasing");
      }
    }
  }
  std::lock_guard lock(mutex_);
  for (const auto& f : families_) {
    if (f->name() != name) continue;
    auto* same = dynamic_cast<F*>(f.get());
    if (same == nullptr || f->help() != help || f->labelNames() != labelNames ||
        (type == MetricType::kHistogram && same->buckets() != buckets)) {
      dieOnBadDefinition(name, "registered twice with different definitions");
    }
    return *same;
  }
  auto family = std::make_unique<F>(std::move(name), std::move(help), type, std::move(labelNames));
  family->setBuckets(std::move(buckets));
  F& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labelNames) {
  return findOrAdd<Family<Counter>>(std::move(name), std::move(help), MetricType::kCounter,
                                    std::move(labelNames), {});
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labelNames) {
  return findOrAdd<Family<Gauge>>(std::move(name), std::move(help), MetricType::kGauge,
                                  std::move(labelNames), {});
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> labelNames,
                                       std::vector<double> buckets) {
  return findOrAdd<Family<Histogram>>(std::move(name), std::move(help), MetricType::kHistogram,
                                      std::move(labelNames), std::move(buckets));
}

void Registry::gaugeCallback(std::string name, std::string help, std::function<double()> fn,
                             std::vector<std::pair<std::string, std::string>> labels) {
  callback(MetricType::kGauge, std::move(name), std::move(help), std::move(fn), std::move(labels));
}

void Registry::counterCallback(std::string name, std::string help, std::function<double()> fn,
                               std::vector<std::pair<std::string, std::string>> labels) {
  callback(MetricType::kCounter, std::move(name), std::move(help), std::move(fn),
           std::move(labels));
}

void Registry::callback(MetricType type, std::string name, std::string help,
                        std::function<double()> fn,
                        std::vector<std::pair<std::string, std::string>> labels) {
  std::vector<std::string> names;
  std::vector<std::string_view> values;
  for (const auto& [k, v] : labels) {
    names.push_back(k);
    values.push_back(v);
  }
  auto& family = findOrAdd<Family<CallbackGauge>>(std::move(name), std::move(help), type,
                                                  std::move(names), {});
  bool created = false;
  family.child(values, [&] {
    created = true;
    return std::make_unique<CallbackGauge>(std::move(fn));
  });
  if (!created) dieOnBadDefinition(family.name(), "callback registered twice for one label set");
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& f : families_) f->render(out);
  return out;
}

}  // namespace netledger::metrics
