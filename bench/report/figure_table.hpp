#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccmesh::bench {

// The one table scripts/bench.sh prints: every figure of every benchmark program beside its
// limit, as markdown for people and as JSON for bench/results/latest.json.
//
// It reads three shapes of program output: the benchmark programs' own
// {"program", "figures": [{figure, unit, ccmesh, limit, limit_name, ratio, goal, met,
// note}]}; Google Benchmark's JSON (one row per benchmark, in ns/op with allocs/op); and
// any other JSON object, whose scalar fields become one row each.
class FigureTable {
 public:
  using Json = nlohmann::ordered_json;

  // Adds the rows of one program's output. Throws std::runtime_error if it is not JSON.
  void addOutput(const std::string& program, const std::string& text);
  // Adds rows saying that `program`'s figures were not measured, and why.
  void addNotMeasured(const std::string& program, const std::string& why);

  // The markdown table: figure | ccmesh | limit measured beside it | ratio | goal | met?
  std::string markdown() const;
  // Every row as JSON objects of the benchmark programs' shape.
  Json rows() const { return rows_; }

 private:
  void addFigures(const Json& figures);
  void addGoogleBenchmark(const Json& output);
  void addScalars(const std::string& prefix, const Json& value);

  Json rows_ = Json::array();  // the rows, in the order added
};

}  // namespace ccmesh::bench
