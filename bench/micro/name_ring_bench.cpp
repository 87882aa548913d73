// The lookup a client adds when names are spread over several clusters (docs/SCALING.md
// "Past one broker"): hashing a session name and finding its cluster on the ring.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "allocations_per_op.hpp"
#include "ccmesh/client/name_ring.hpp"

namespace ccmesh::bench {
namespace {

void BM_NameRingLookup(benchmark::State& state) {
  std::vector<std::string> clusters;
  for (int64_t i = 0; i < state.range(0); ++i) {
    clusters.push_back("tcp://broker-" + std::to_string(i) + ":5555");
  }
  const client::NameRing ring(clusters);
  std::vector<std::string> names;
  for (int i = 0; i < 4096; ++i) names.push_back("user-" + std::to_string(i * 7919));
  std::size_t i = 0;
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring.indexOf(names[i++ & 4095]));
  }
  allocations.report();
}

BENCHMARK(BM_NameRingLookup)->Arg(4)->Arg(64);

}  // namespace
}  // namespace ccmesh::bench
