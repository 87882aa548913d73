#include "figure_report.hpp"

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ccmesh::bench {

FigureReport::FigureReport(std::string program, bool smoke)
    : program_(std::move(program)), smoke_(smoke) {}

void FigureReport::add(Figure figure) { figures_.push_back(std::move(figure)); }

std::optional<double> FigureReport::ratio(const Figure& figure) {
  if (!figure.limit || *figure.limit == 0) return std::nullopt;
  return figure.ccmesh / *figure.limit;
}

std::optional<bool> FigureReport::met(const Figure& figure) {
  const auto r = ratio(figure);
  switch (figure.goal) {
    case Goal::kNone:
      return std::nullopt;
    case Goal::kRatioAtMost:
      if (!r) return std::nullopt;
      return *r <= figure.threshold;
    case Goal::kRatioAtLeast:
      if (!r) return std::nullopt;
      return *r >= figure.threshold;
    case Goal::kAddedAtMost:
      if (!figure.limit) return std::nullopt;
      return figure.ccmesh - *figure.limit <= figure.threshold;
    case Goal::kValueAtMost:
      return figure.ccmesh <= figure.threshold;
  }
  return std::nullopt;
}

void FigureReport::print() const {
  // Three significant digits are all a noisy machine can back.
  auto rounded = [](double value) {
    if (value == 0 || !std::isfinite(value)) return value;
    const double scale = std::pow(10.0, 2 - std::floor(std::log10(std::fabs(value))));
    return std::round(value * scale) / scale;
  };
  nlohmann::ordered_json figures = nlohmann::ordered_json::array();
  for (const auto& figure : figures_) {
    nlohmann::ordered_json row;
    row["figure"] = figure.name;
    row["unit"] = figure.unit;
    row["ccmesh"] = rounded(figure.ccmesh);
    row["limit"] =
        figure.limit ? nlohmann::ordered_json(rounded(*figure.limit)) : nlohmann::ordered_json();
    row["limit_name"] = figure.limit_name;
    const auto r = ratio(figure);
    row["ratio"] = r ? nlohmann::ordered_json(rounded(*r)) : nlohmann::ordered_json();
    row["goal"] = figure.goal_text;
    const auto m = met(figure);
    row["met"] = m ? nlohmann::ordered_json(*m) : nlohmann::ordered_json();
    row["note"] = figure.note;
    figures.push_back(std::move(row));
  }
  nlohmann::ordered_json report{{"program", program_}, {"smoke", smoke_}, {"figures", figures}};
  std::cout << report.dump(2) << std::endl;
}

}  // namespace ccmesh::bench
