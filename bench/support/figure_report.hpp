#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ccmesh::bench {

// How a figure is judged against its goal.
enum class Goal {
  kNone,          // reported for information
  kRatioAtMost,   // ccmesh / limit <= threshold
  kRatioAtLeast,  // ccmesh / limit >= threshold
  kAddedAtMost,   // ccmesh - limit <= threshold (in the figure's unit)
  kValueAtMost,   // ccmesh <= threshold (in the figure's unit)
};

// One measured figure, with the limit measured beside it in the same run.
struct Figure {
  std::string name;             // what was measured, e.g. "round trip, one prompt in flight, p50"
  std::string unit;             // unit of ccmesh and limit: "µs", "queries/s", ...
  double ccmesh = 0;            // the value measured through ccmesh
  std::optional<double> limit;  // the limit measured beside it, if the figure has one
  std::string limit_name;       // what the limit is
  Goal goal = Goal::kNone;      // how the figure is judged
  double threshold = 0;         // the goal's number
  std::string goal_text;        // the goal as a reader says it
  std::string note;             // what a reader should know: sample counts, drops
};

// The figures of one benchmark program, printed as one JSON object on stdout:
// {"program", "smoke", "figures": [{figure, unit, ccmesh, limit, limit_name, ratio, goal,
// met, note}]}; scripts/bench.sh turns these into the table of docs/BENCHMARKS.md.
class FigureReport {
 public:
  FigureReport(std::string program, bool smoke);

  void add(Figure figure);
  // Writes the JSON object on stdout.
  void print() const;

  // ccmesh / limit, if there is a non-zero limit.
  static std::optional<double> ratio(const Figure& figure);
  // Whether the goal was met; nullopt for figures without a goal.
  static std::optional<bool> met(const Figure& figure);

 private:
  std::string program_;          // the benchmark program's name
  bool smoke_;                   // tiny counts: proves it works, measures nothing
  std::vector<Figure> figures_;  // in the order measured
};

}  // namespace ccmesh::bench
