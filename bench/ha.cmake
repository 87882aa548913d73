# ccmesh-bench-ha: a leader broker killed with -9 (time until each session answers again
# from the new leader) and the cost of being an HA leader per query, with a real etcd.
# Included by bench/CMakeLists.txt.
add_executable(ccmesh-bench-ha ha/ha_bench.cpp)
target_link_libraries(ccmesh-bench-ha PRIVATE ccmesh_bench_support ccmesh_warnings)
# scripts/bench.sh runs every program of this list, and ctest -L bench its smoke run.
list(APPEND ccmesh_bench_programs ccmesh-bench-ha)
