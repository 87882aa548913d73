# ccmesh-bench-failover: how long after a worker dies (kill -9) or freezes (SIGSTOP) each
# of its sessions answers again from another worker. Included by bench/CMakeLists.txt.
add_executable(ccmesh-bench-failover failover/failover_bench.cpp)
target_link_libraries(ccmesh-bench-failover PRIVATE ccmesh_bench_support ccmesh_warnings)
# scripts/bench.sh runs every program of this list, and ctest -L bench its smoke run.
list(APPEND ccmesh_bench_programs ccmesh-bench-failover)
