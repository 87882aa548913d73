#pragma once

#include <sys/types.h>

#include <string>

#include "ccmesh/common/expected.hpp"
#include "ccmesh/worker/cli_command.hpp"

namespace ccmesh::worker {

// A freshly started child: its pid and the parent's ends of its three pipes (nonblocking,
// close-on-exec).
struct SpawnedChild {
  pid_t pid = -1;
  int stdin_fd = -1;   // write end of the child's stdin
  int stdout_fd = -1;  // read end of the child's stdout
  int stderr_fd = -1;  // read end of the child's stderr
};

// Starts a command (vfork + exec) in its own process group, with PR_SET_PDEATHSIG so it dies
// with the worker, default signal dispositions, no inherited descriptors but its three
// pipes, and the command's environment and working directory. Returns once the child has
// exec'd: an exec (or chdir) failure is reported through a close-on-exec pipe and returned
// as an error message, the failed child reaped first. The child runs in the worker's memory
// until exec (no page tables copied, so a spawn costs the same in a large worker), calling
// only async-signal-safe functions, with every signal blocked until it has reset them.
Expected<SpawnedChild, std::string> spawnChild(const CliCommand& command);

// Resolves a program name the way execvp would (a name without '/' is looked up on PATH).
// Returns the name unchanged if it contains a '/' or is not found.
std::string resolveProgram(const std::string& program);

}  // namespace ccmesh::worker
