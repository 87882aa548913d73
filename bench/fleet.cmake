# ccmesh-bench-fleet: one broker and a simulated fleet, beside a plain ZeroMQ relay.
add_executable(ccmesh-bench-fleet
  fleet/fleet_bench.cpp
  fleet/fleet_load.cpp
  fleet/fleet_relay.cpp
  fleet/simulated_fleet.cpp
)
target_link_libraries(ccmesh-bench-fleet PRIVATE ccmesh_bench_support ccmesh_warnings)
# Its simulated workers merge deltas with the worker's own DeltaCoalescer.
target_include_directories(ccmesh-bench-fleet PRIVATE ${PROJECT_SOURCE_DIR}/worker/src)
list(APPEND ccmesh_bench_programs ccmesh-bench-fleet)
