# ccmesh-bench-idle: one worker holding thousands of on-demand sessions under a small live
# budget (memory per name, registration time, query mix with resumes). Included by
# bench/CMakeLists.txt.
add_executable(ccmesh-bench-idle system/idle_bench.cpp)
target_link_libraries(ccmesh-bench-idle PRIVATE ccmesh_bench_support ccmesh_warnings)
# scripts/bench.sh runs every program of this list, and ctest -L bench its smoke run.
list(APPEND ccmesh_bench_programs ccmesh-bench-idle)
