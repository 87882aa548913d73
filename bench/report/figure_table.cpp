#include "figure_table.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

namespace ccmesh::bench {
namespace {

using Json = FigureTable::Json;

// The figures scripts/bench.sh expects from programs that may not have been built.
const std::vector<std::pair<std::string, std::vector<std::string>>> kExpectedFigures{
    {"ccmesh-bench-failover",
     {"failover: kill -9 of a worker with 100 sessions, each answers again (p50, p99, max)",
      "failover: silent death at 100 ms heartbeats"}},
    {"ccmesh-bench-real-cli", {"real CLI figures"}},
};

// Three significant digits, without exponents.
std::string number(double value) {
  if (!std::isfinite(value)) return "—";
  const double magnitude = std::fabs(value);
  int decimals = 0;
  if (magnitude < 1) {
    decimals = magnitude == 0 ? 0 : 2 - static_cast<int>(std::floor(std::log10(magnitude)));
  } else if (magnitude < 10) {
    decimals = 2;
  } else if (magnitude < 100) {
    decimals = 1;
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string cell(const Json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) return "—";
  if (it->is_string()) return it->get<std::string>().empty() ? "—" : it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "**no**";
  if (it->is_number()) return number(it->get<double>());
  return it->dump();
}

Json row(std::string figure, Json ccmesh, std::string unit, std::string note) {
  return Json{{"figure", std::move(figure)},
              {"unit", std::move(unit)},
              {"ccmesh", std::move(ccmesh)},
              {"limit", nullptr},
              {"limit_name", ""},
              {"ratio", nullptr},
              {"goal", "—"},
              {"met", nullptr},
              {"note", std::move(note)}};
}

}  // namespace

void FigureTable::addOutput(const std::string& program, const std::string& text) {
  const Json output = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (output.is_discarded() || !output.is_object()) {
    throw std::runtime_error(program + " did not print one JSON object");
  }
  if (output.contains("figures") && output["figures"].is_array()) {
    if (output["figures"].empty())
      return addNotMeasured(program, "it measured nothing (see its log)");
    addFigures(output["figures"]);
  } else if (output.contains("benchmarks") && output["benchmarks"].is_array()) {
    addGoogleBenchmark(output);
  } else {
    addScalars(program, output);
  }
}

void FigureTable::addNotMeasured(const std::string& program, const std::string& why) {
  std::vector<std::string> figures{program};
  for (const auto& [name, expected] : kExpectedFigures) {
    if (name == program) figures = expected;
  }
  for (const auto& figure : figures) rows_.push_back(row(figure, "not measured", "", why));
}

void FigureTable::addFigures(const Json& figures) {
  for (const auto& figure : figures) {
    if (figure.is_object() && figure.contains("figure")) rows_.push_back(figure);
  }
}

void FigureTable::addGoogleBenchmark(const Json& output) {
  for (const auto& benchmark : output["benchmarks"]) {
    if (!benchmark.is_object() || benchmark.value("run_type", "iteration") != "iteration") {
      continue;
    }
    const std::string name = benchmark.value("name", "?");
    if (benchmark.value("error_occurred", false)) {
      rows_.push_back(row("micro: " + name, "failed", "", benchmark.value("error_message", "")));
      continue;
    }
    // CPU time, which a busy machine disturbs less than wall time. Benchmarks that process
    // many items per iteration are reported per item.
    double nanos = 0;
    if (benchmark.contains("items_per_second")) {
      nanos = 1e9 / benchmark["items_per_second"].get<double>();
    } else {
      static const std::map<std::string, double> kToNanos{
          {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
      const auto unit = kToNanos.find(benchmark.value("time_unit", "ns"));
      nanos = benchmark.value("cpu_time", 0.0) * (unit == kToNanos.end() ? 1 : unit->second);
    }
    std::string note;
    if (benchmark.contains("allocs/op")) {
      note = number(benchmark["allocs/op"].get<double>()) + " allocations/op";
    }
    Json micro = row("micro: " + name, std::round(nanos * 10) / 10, "ns/op (CPU)", note);
    micro["goal"] = "no allocation per message where avoidable";
    rows_.push_back(std::move(micro));
  }
}

void FigureTable::addScalars(const std::string& prefix, const Json& value) {
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) addScalars(prefix + "." + key, member);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      addScalars(prefix + "[" + std::to_string(i) + "]", value[i]);
    }
  } else {
    rows_.push_back(row(prefix, value, "", ""));
  }
}

std::string FigureTable::markdown() const {
  std::string table =
      "| figure | ccmesh | limit measured beside it | ratio | goal | met? |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& r : rows_) {
    const std::string unit = r.value("unit", "");
    auto with_unit = [&](const char* key) {
      std::string text = cell(r, key);
      const auto& value = r.contains(key) ? r[key] : Json();
      if (value.is_number() && !unit.empty()) text += " " + unit;
      return text;
    };
    std::string limit = with_unit("limit");
    const std::string limit_name = r.value("limit_name", "");
    if (!limit_name.empty()) limit = limit == "—" ? limit_name : limit + " (" + limit_name + ")";
    std::string ratio = cell(r, "ratio");
    if (ratio != "—") ratio += "×";
    std::string figure = cell(r, "figure");
    const std::string note = r.value("note", "");
    if (!note.empty()) figure += " <br><sub>" + note + "</sub>";
    table += "| " + figure + " | " + with_unit("ccmesh") + " | " + limit + " | " + ratio + " | " +
             cell(r, "goal") + " | " + cell(r, "met") + " |\n";
  }
  return table;
}

}  // namespace ccmesh::bench
