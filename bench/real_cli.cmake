# ccmesh-bench-real-cli: the real Claude Code CLI under a worker and driven directly, both
# against the fake Anthropic Messages API (tests/support/fake_anthropic_api). Included by
# bench/CMakeLists.txt.
set(CCMESH_CLAUDE_CLI "${PROJECT_SOURCE_DIR}/.tools/claude/node_modules/.bin/claude"
    CACHE FILEPATH "The Claude Code CLI the e2e tests and benchmarks run")

add_executable(ccmesh-bench-real-cli
  real_cli/direct_claude.cpp
  real_cli/real_cli_bench.cpp
)
target_include_directories(ccmesh-bench-real-cli PRIVATE real_cli)
target_link_libraries(ccmesh-bench-real-cli
  PRIVATE ccmesh_bench_support ccmesh_fake_anthropic_api ccmesh_warnings)
target_compile_definitions(ccmesh-bench-real-cli PRIVATE CCMESH_CLAUDE_CLI="${CCMESH_CLAUDE_CLI}")
# scripts/bench.sh runs every program of this list, and ctest -L bench its smoke run.
list(APPEND ccmesh_bench_programs ccmesh-bench-real-cli)
