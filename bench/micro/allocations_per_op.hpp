#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

#include "allocation_counter.hpp"

namespace ccmesh::bench {

// Reports the allocations a benchmark's loop made per operation as the counter `allocs/op`.
// Construct it right before the loop and call report() right after.
class AllocationsPerOp {
 public:
  explicit AllocationsPerOp(benchmark::State& state)
      : state_(state), start_(AllocationCounter::total()) {}

  // `ops_per_iteration`: how many operations one iteration of the loop performs.
  void report(double ops_per_iteration = 1) {
    const auto made = static_cast<double>(AllocationCounter::total() - start_);
    state_.counters["allocs/op"] =
        benchmark::Counter(made / ops_per_iteration, benchmark::Counter::kAvgIterations);
  }

 private:
  benchmark::State& state_;  // the benchmark being measured
  uint64_t start_;           // AllocationCounter::total() before its loop
};

}  // namespace ccmesh::bench
