#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <thread>

namespace netledger::metrics {
namespace {

// Parses sample lines ("name{labels} value") into a map; comment lines are returned separately.
std::map<std::string, std::string> samples(const std::string& text,
                                           std::vector<std::string>* comments = nullptr) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with('#')) {
      if (comments) comments->push_back(line);
      continue;
    }
    auto space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

TEST(MetricsRegistryTest, CounterWithLabelsRendersHelpTypeAndSamples) {
  Registry registry;
  auto& requests = registry.counter("test_requests_total", "Requests.", {"route", "status"});
  requests.labels({"/a", "200"}).inc();
  requests.labels({"/a", "200"}).inc(2);
  requests.labels({"/b", "404"}).inc();
  std::vector<std::string> comments;
  auto s = samples(registry.render(), &comments);
  EXPECT_EQ(s["test_requests_total{route=\"/a\",status=\"200\"}"], "3");
  EXPECT_EQ(s["test_requests_total{route=\"/b\",status=\"404\"}"], "1");
  ASSERT_EQ(comments.size(), 2u);
  EXPECT_EQ(comments[0], "# HELP test_requests_total Requests.");
  EXPECT_EQ(comments[1], "# TYPE test_requests_total counter");
}

TEST(MetricsRegistryTest, SameLabelsReturnTheSameChild) {
  Registry registry;
  auto& family = registry.counter("c_total", "c", {"x"});
  EXPECT_EQ(&family.labels({"1"}), &family.labels({"1"}));
  EXPECT_NE(&family.labels({"1"}), &family.labels({"2"}));
  // Label values that would collide if simply concatenated stay distinct.
  auto& two = registry.counter("d_total", "d", {"a", "b"});
  EXPECT_NE(&two.labels({"ab", "c"}), &two.labels({"a", "bc"}));
}

TEST(MetricsRegistryTest, ReRegisteringReturnsTheSameFamily) {
  Registry registry;
  auto& a = registry.counter("same_total", "help", {"x"});
  auto& b = registry.counter("same_total", "help", {"x"});
  EXPECT_EQ(&a, &b);
}

TEST(MetricsRegistryDeathTest, ConflictingDefinitionsAbort) {
  Registry registry;
  registry.counter("conflict_total", "help", {"x"});
  EXPECT_DEATH(registry.gauge("conflict_total", "help", {"x"}), "different definitions");
  EXPECT_DEATH(registry.counter("bad-name", "help"), "invalid metric name");
  EXPECT_DEATH(registry.counter("ok_total", "help", {"__reserved"}), "invalid label name");
  EXPECT_DEATH(registry.counter("conflict_total", "help", {"x"}).labels({"1", "2"}),
               "wrong number of label values");
}

TEST(MetricsRegistryTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.gauge("g", "line one\nback\\slash", {"v"}).labels({"a\"b\\c\nd"}).set(1.5);
  std::string text = registry.render();
  EXPECT_NE(text.find("# HELP g line one\\nback\\\\slash\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{v=\"a\\\"b\\\\c\\nd\"} 1.5\n"), std::string::npos) << text;
}

TEST(MetricsRegistryTest, GaugeWithoutLabelsHasNoBraces) {
  Registry registry;
  auto& g = registry.gauge("open_things", "Open things.").get();
  g.inc();
  g.inc();
  g.dec();
  g.add(0.25);
  auto s = samples(registry.render());
  EXPECT_EQ(s["open_things"], "1.25");
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  auto& h = registry.histogram("lat_seconds", "Latency.", {"route"}, {0.01, 0.1, 1});
  auto& child = h.labels({"/x"});
  child.observe(0.005);  // <= 0.01
  child.observe(0.01);   // le is inclusive
  child.observe(0.05);
  child.observe(3);  // only +Inf
  auto s = samples(registry.render());
  EXPECT_EQ(s["lat_seconds_bucket{route=\"/x\",le=\"0.01\"}"], "2");
  EXPECT_EQ(s["lat_seconds_bucket{route=\"/x\",le=\"0.1\"}"], "3");
  EXPECT_EQ(s["lat_seconds_bucket{route=\"/x\",le=\"1\"}"], "3");
  EXPECT_EQ(s["lat_seconds_bucket{route=\"/x\",le=\"+Inf\"}"], "4");
  EXPECT_EQ(s["lat_seconds_count{route=\"/x\"}"], "4");
  EXPECT_DOUBLE_EQ(std::stod(s["lat_seconds_sum{route=\"/x\"}"]), 3.065);
  EXPECT_NE(registry.render().find("# TYPE lat_seconds histogram\n"), std::string::npos);
}

TEST(MetricsRegistryTest, DefaultLatencyBucketsSpanHalfMillisecondToFiveSeconds) {
  auto b = defaultLatencyBuckets();
  ASSERT_FALSE(b.empty());
  EXPECT_DOUBLE_EQ(b.front(), 0.0005);
  EXPECT_DOUBLE_EQ(b.back(), 5);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(MetricsRegistryTest, CallbackGaugesAreEvaluatedAtScrapeTime) {
  Registry registry;
  double used = 1;
  registry.gaugeCallback("pool_used", "Used addresses.", [&] { return used; }, {{"pool", "a"}});
  registry.gaugeCallback("pool_used", "Used addresses.", [] { return 7.0; }, {{"pool", "b"}});
  used = 42;
  auto s = samples(registry.render());
  EXPECT_EQ(s["pool_used{pool=\"a\"}"], "42");
  EXPECT_EQ(s["pool_used{pool=\"b\"}"], "7");
}

TEST(MetricsRegistryTest, SpecialValuesUsePrometheusSpelling) {
  EXPECT_EQ(formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatValue(std::nan("")), "NaN");
  EXPECT_EQ(formatValue(0.0005), "0.0005");
}

TEST(MetricsRegistryTest, ConcurrentIncrementsAreNotLost) {
  Registry registry;
  auto& family = registry.counter("race_total", "r", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        family.labels({i % 2 ? "odd" : "even"}).inc();
        if (t == 0 && i % 1000 == 0) (void)registry.render();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(family.labels({"odd"}).value() + family.labels({"even"}).value(), 40000u);
}

}  // namespace
}  // namespace netledger::metrics
