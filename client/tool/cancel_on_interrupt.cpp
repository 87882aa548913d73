#include "cancel_on_interrupt.hpp"

#include <unistd.h>

#include <atomic>

namespace ccmesh::client {
namespace {

// SIGINTs seen; lock-free, so the handler may touch it.
std::atomic<int> interrupts{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void onInterrupt(int) {
  if (interrupts.fetch_add(1) > 0) _exit(130);  // the second Ctrl-C: leave now
}

}  // namespace

CancelOnInterrupt::CancelOnInterrupt() {
  interrupts = 0;
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the poll wakes up (EINTR) and sees the flag at once
  sigaction(SIGINT, &action, &previous_);
}

CancelOnInterrupt::~CancelOnInterrupt() { sigaction(SIGINT, &previous_, nullptr); }

bool CancelOnInterrupt::requested() const { return interrupts.load() > 0; }

}  // namespace ccmesh::client
