// Placement at scale: the broker's PlacementPolicy spreading 100k names over its workers
// (what placePending does when workers join a broker that holds 100k pending names), and
// placing one more name into a registry that already holds 100k.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "allocations_per_op.hpp"
#include "ccmesh/broker/placement_policy.hpp"
#include "ccmesh/broker/session_registry.hpp"

namespace ccmesh::bench {
namespace {

constexpr std::size_t kNames = 100000;
constexpr std::size_t kWorkers = 16;

std::vector<broker::PlacementCandidate> emptyWorkers() {
  std::vector<broker::PlacementCandidate> workers(kWorkers);
  for (std::size_t i = 0; i < kWorkers; ++i) {
    workers[i].id = "worker-" + std::to_string(i);
    workers[i].capacity = kNames / kWorkers;
  }
  return workers;
}

std::string nameOf(std::size_t i) { return "session-" + std::to_string(i); }

// One pick per name; reported per name.
void BM_PlacementPick100kNames(benchmark::State& state) {
  const auto workers = emptyWorkers();
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    broker::PlacementPolicy policy(workers);
    for (std::size_t i = 0; i < kNames; ++i) benchmark::DoNotOptimize(policy.pick());
  }
  allocations.report(kNames);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kNames));
}

// Registering, choosing a worker for, placing and forgetting one name while 100k others
// are placed: the registry's share of a `start` at that scale.
void BM_PlaceOneNameAt100kNames(benchmark::State& state) {
  broker::SessionRegistry registry;
  auto workers = emptyWorkers();
  for (auto& worker : workers) worker.capacity = static_cast<uint32_t>(kNames);  // room to spare
  for (std::size_t i = 0; i < kNames; ++i) {
    registry.add(nameOf(i), SessionOptions{});
    registry.place(nameOf(i), workers[i % kWorkers].id);
  }
  const std::string name = "session-new";
  AllocationsPerOp allocations(state);
  for (auto _ : state) {
    registry.add(name, SessionOptions{});
    for (auto& worker : workers) worker.hosted = registry.countOn(worker.id);
    const auto chosen = broker::PlacementPolicy::choose(workers);
    registry.place(name, workers[chosen.value()].id);
    registry.remove(name);
  }
  allocations.report();
}

BENCHMARK(BM_PlacementPick100kNames)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PlaceOneNameAt100kNames);

}  // namespace
}  // namespace ccmesh::bench
