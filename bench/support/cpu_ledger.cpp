#include "cpu_ledger.hpp"

#include <algorithm>

#include "process_probe.hpp"

namespace ccmesh::bench {

void CpuLedger::add(std::string name, std::vector<pid_t> pids) {
  groups_.emplace_back(std::move(name), std::move(pids));
}

double CpuLedger::cpuOf(const std::vector<pid_t>& pids) {
  double seconds = 0;
  for (pid_t pid : pids) seconds += std::max(0.0, ProcessProbe(pid).cpuSeconds());
  return seconds;
}

void CpuLedger::start() {
  started_.clear();
  for (const auto& [name, pids] : groups_) started_.push_back(cpuOf(pids));
}

void CpuLedger::stop() {
  used_.resize(groups_.size(), 0.0);
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    used_[i] += cpuOf(groups_[i].second) - started_.at(i);
  }
}

void CpuLedger::reset() { used_.clear(); }

double CpuLedger::used(const std::string& name) const {
  for (std::size_t i = 0; i < groups_.size() && i < used_.size(); ++i) {
    if (groups_[i].first == name) return used_[i];
  }
  return 0;
}

std::string CpuLedger::perOperation(double operations, const std::string& unit) const {
  std::string text = "CPU per " + unit + ":";
  for (std::size_t i = 0; i < groups_.size() && i < used_.size(); ++i) {
    const double micros = operations > 0 ? used_[i] * 1e6 / operations : 0;
    text += (i == 0 ? " " : ", ") + groups_[i].first + " " +
            std::to_string(static_cast<long>(micros + 0.5)) + " µs";
  }
  return text;
}

}  // namespace ccmesh::bench
