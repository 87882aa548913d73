#include "harness/wait_for.hpp"

#include <thread>

namespace ccmesh::test {

bool waitFor(const std::function<bool()>& condition, Millis deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  Millis pause(1);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(pause);  // back-off between checks of the condition
    pause = std::min(pause * 2, Millis(20));
  }
}

}  // namespace ccmesh::test
