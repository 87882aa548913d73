#include "bench_arguments.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <stdexcept>
#include <string_view>

namespace ccmesh::bench {

BenchArguments BenchArguments::parse(int argc, char** argv, const std::string& usage,
                                     const std::vector<std::string>& numeric) {
  BenchArguments arguments;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smoke") {
      arguments.smoke = true;
    } else if (arg == "--help" || arg == "-h") {
      arguments.help = true;
      std::cout << usage << "\n  --smoke  tiny counts: check that it works, measure nothing\n";
      for (const auto& name : numeric) std::cout << "  " << name << " N\n";
    } else if (std::find(numeric.begin(), numeric.end(), arg) != numeric.end() && i + 1 < argc) {
      const std::string_view text = argv[++i];
      uint64_t value = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size()) {
        throw std::invalid_argument(arg + " needs a number, got '" + std::string(text) + "'");
      }
      arguments.numbers[arg] = value;
    } else {
      throw std::invalid_argument("unknown argument '" + arg + "'");
    }
  }
  return arguments;
}

uint64_t BenchArguments::number(const std::string& name, uint64_t fallback) const {
  const auto found = numbers.find(name);
  return found == numbers.end() ? fallback : found->second;
}

}  // namespace ccmesh::bench
