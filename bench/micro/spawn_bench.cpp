// Starting a CLI process the way a worker does (spawnChild: its own process group, pipes,
// PR_SET_PDEATHSIG, exec), with /bin/true standing in for the CLI, and reaping it. The
// worker's event loop waits while spawnChild runs, so this is what each session placed on
// a worker costs that loop; a failover of many sessions pays it once per session.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "child_spawner.hpp"

namespace ccmesh::bench {
namespace {

void BM_SpawnChild(benchmark::State& state) {
  // A parent as large as a busy worker: the kernel copies its page tables on fork.
  std::vector<char> ballast(static_cast<std::size_t>(state.range(0)) << 20, 1);
  benchmark::DoNotOptimize(ballast.data());
  worker::CliCommand command;
  command.program = "/bin/true";
  command.argv = {"/bin/true"};
  command.env = {"PATH=/usr/bin:/bin"};
  for (auto _ : state) {
    auto child = worker::spawnChild(command);
    if (!child) throw std::runtime_error(child.error());
    // Only the spawn is timed: a worker reaps its children later, from its loop.
    state.PauseTiming();
    for (int fd : {child->stdin_fd, child->stdout_fd, child->stderr_fd}) ::close(fd);
    int status = 0;
    ::waitpid(child->pid, &status, 0);
    state.ResumeTiming();
  }
}

BENCHMARK(BM_SpawnChild)->Arg(16)->Arg(256)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ccmesh::bench
