#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace ccmesh::bench {

// CPU time used by named groups of processes between start() and stop(), read from /proc:
// says which process a figure's time went to ("broker", "worker", "CLIs", "client").
class CpuLedger {
 public:
  // Adds a group; its CPU time is the sum over `pids`.
  void add(std::string name, std::vector<pid_t> pids);

  // Counts from now; stop() adds what was used since to the totals, so several blocks of
  // one measurement add up.
  void start();
  void stop();
  // Forgets the totals.
  void reset();

  // CPU seconds the group `name` used in the blocks so far (0 for an unknown group).
  double used(const std::string& name) const;

  // "CPU per <unit>: broker 12 µs, worker 40 µs, ..." for `operations` done in between.
  std::string perOperation(double operations, const std::string& unit) const;

 private:
  // Summed utime + stime of a group, in seconds.
  static double cpuOf(const std::vector<pid_t>& pids);

  std::vector<std::pair<std::string, std::vector<pid_t>>> groups_;  // name -> processes
  std::vector<double> started_;                                     // per group, at start()
  std::vector<double> used_;                                        // per group, totals
};

}  // namespace ccmesh::bench
