#pragma once

#include <cstdint>

namespace ccmesh::bench {

// Counts the calls of malloc and its family in this program (allocation_counter.cpp
// interposes them), so micro-benchmarks can report allocations per operation beside time.
class AllocationCounter {
 public:
  // Allocations so far, all threads together.
  static uint64_t total();
};

}  // namespace ccmesh::bench
