#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace ccmesh::bench {

// The mock CLI driven directly over pipes, with the flags the worker gives it and nothing
// in between: the limit for the time to first delta. One turn at a time.
class DirectCli {
 public:
  // Spawns ccmesh-mock-cli with HOME (and its transcripts) under `home`.
  explicit DirectCli(const std::string& home);
  // Closes its stdin and reaps it (killed if it lingers).
  ~DirectCli();
  DirectCli(const DirectCli&) = delete;
  DirectCli& operator=(const DirectCli&) = delete;

  // How long one turn took, from writing the prompt.
  struct TurnTimes {
    std::chrono::nanoseconds first_delta;  // until the first text delta line arrived
    std::chrono::nanoseconds result;       // until the result line arrived
  };

  // Writes one prompt and reads the turn up to its result. Throws if the CLI goes quiet or
  // streams no delta.
  TurnTimes turn(const std::string& prompt);

 private:
  // The next line of the CLI's stdout, without its newline; throws at the deadline.
  std::string readLine();

  pid_t pid_ = -1;      // the CLI (also its process group)
  int to_cli_ = -1;     // its stdin
  int from_cli_ = -1;   // its stdout
  std::string buffer_;  // bytes read but not yet returned as lines
};

}  // namespace ccmesh::bench
