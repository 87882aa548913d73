// ccmesh-bench-report: merges the JSON the benchmark programs printed into one markdown
// table (stdout) and one JSON file.
//   ccmesh-bench-report --out FILE [--info KEY=VALUE]... [--not-measured PROGRAM=WHY]...
//                       PROGRAM=OUTPUT_FILE...
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "figure_table.hpp"

using ccmesh::bench::FigureTable;

namespace {

std::pair<std::string, std::string> split(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) throw std::runtime_error("expected KEY=VALUE, got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::string slurp(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    FigureTable table;
    FigureTable::Json info = FigureTable::Json::object();
    std::string out;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      const bool has_value = i + 1 < argc;
      if (arg == "--out" && has_value) {
        out = argv[++i];
      } else if (arg == "--info" && has_value) {
        const auto [key, value] = split(argv[++i]);
        info[key] = value;
      } else if (arg == "--not-measured" && has_value) {
        const auto [program, why] = split(argv[++i]);
        table.addNotMeasured(program, why);
      } else {
        const auto [program, path] = split(arg);
        table.addOutput(program, slurp(path));
      }
    }
    std::cout << table.markdown();
    if (!out.empty()) {
      FigureTable::Json report{{"info", info}, {"figures", table.rows()}};
      std::ofstream file(out);
      file << report.dump(2) << "\n";
      if (!file) throw std::runtime_error("cannot write " + out);
    }
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-report: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
