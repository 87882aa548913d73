// The metrics registry and its exposition text (Prometheus text format 0.0.4).
#include "ccmesh/monitoring/metric_registry.hpp"

#include <gtest/gtest.h>

namespace ccmesh::monitoring {
namespace {

TEST(MetricRegistry, RendersHelpTypeAndSamplesWithBuildInfo) {
  MetricRegistry registry("worker");
  auto& spawns = registry.counter("ccmesh_test_spawns_total", "CLI processes started");
  spawns.Add({}).Increment(3);
  registry.gauge("ccmesh_test_live", "Live CLIs").Add({{"state", "live"}}).Set(2);
  const std::string text = registry.render();
  EXPECT_NE(text.find("# HELP ccmesh_test_spawns_total CLI processes started\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE ccmesh_test_spawns_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("\nccmesh_test_spawns_total 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ccmesh_test_live{state=\"live\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ccmesh_build_info{component=\"worker\",version=\""), std::string::npos)
      << text;
}

TEST(MetricRegistry, HistogramsCountInSecondsWithCumulativeBuckets) {
  MetricRegistry registry("broker");
  auto& histogram =
      registry.histogram("ccmesh_test_duration_seconds", "How long").Add({}, kShortBuckets);
  histogram.Observe(seconds(Millis(20)));
  histogram.Observe(seconds(Millis(2000)));
  const std::string text = registry.render();
  EXPECT_NE(text.find("ccmesh_test_duration_seconds_count 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ccmesh_test_duration_seconds_sum 2.02"), std::string::npos) << text;
  EXPECT_NE(text.find("ccmesh_test_duration_seconds_bucket{le=\"0.025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ccmesh_test_duration_seconds_bucket{le=\"2.5\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("ccmesh_test_duration_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
}

TEST(ShownGauges, ShowsTheLabelSetsOfTheLatestSampleOnly) {
  MetricRegistry registry("broker");
  ShownGauges sessions(registry, "ccmesh_test_sessions", "Sessions by state");
  sessions.show({{{{"state", "idle"}}, 2}, {{{"state", "busy"}}, 1}});
  std::string text = registry.render();
  EXPECT_NE(text.find("ccmesh_test_sessions{state=\"busy\"} 1\n"), std::string::npos) << text;
  sessions.show({{{{"state", "idle"}}, 3}});
  text = registry.render();
  EXPECT_NE(text.find("ccmesh_test_sessions{state=\"idle\"} 3\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("state=\"busy\""), std::string::npos) << "a state no longer held leaves";
}

TEST(CatchUp, AddsOnlyWhatATotalKeptElsewhereGrew) {
  MetricRegistry registry("broker");
  auto& counter = registry.counter("ccmesh_test_dropped_total", "Dropped").Add({});
  uint64_t seen = 0;
  catchUp(counter, 5, seen);
  catchUp(counter, 5, seen);
  catchUp(counter, 7, seen);
  EXPECT_EQ(counter.Value(), 7);
  catchUp(counter, 2, seen);  // the source restarted: never goes down
  EXPECT_EQ(counter.Value(), 7);
  EXPECT_EQ(seen, 2u);
}

}  // namespace
}  // namespace ccmesh::monitoring
