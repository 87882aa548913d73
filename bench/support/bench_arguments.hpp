#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ccmesh::bench {

// The command line every benchmark program takes: `--smoke` runs tiny counts to prove the
// program still works (the ctest `bench` label), measuring nothing worth reading. A program
// may also declare options of its own that take a number (`--workers 100`), for profiling
// runs at other sizes.
struct BenchArguments {
  bool smoke = false;                       // tiny counts
  bool help = false;                        // --help was asked for; usage was printed
  std::map<std::string, uint64_t> numbers;  // the declared numeric options given, by name

  // Parses argv; prints `usage` for --help; throws std::invalid_argument on anything else
  // than --smoke, --help and the `numeric` options (each followed by a number).
  static BenchArguments parse(int argc, char** argv, const std::string& usage,
                              const std::vector<std::string>& numeric = {});

  // The value of numeric option `name`, or `fallback` if it was not given.
  uint64_t number(const std::string& name, uint64_t fallback) const;
};

}  // namespace ccmesh::bench
