#include "ccmesh/common/signal_pipe.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

namespace ccmesh {
namespace {

// True if the pipe has something to read (raise() runs the handler before it returns).
bool readable(const SignalPipe& pipe) {
  pollfd item{pipe.fd(), POLLIN, 0};
  return ::poll(&item, 1, 0) == 1;
}

TEST(SignalPipe, SortsWhatArrivedAndStartsOverAfterADrain) {
  SignalPipe pipe({SIGCHLD, SIGTERM, SIGINT, SIGHUP});
  EXPECT_FALSE(readable(pipe));
  ::raise(SIGHUP);
  ::raise(SIGTERM);
  ::raise(SIGINT);
  ::raise(SIGCHLD);
  ::raise(SIGHUP);
  ASSERT_TRUE(readable(pipe));
  const auto got = pipe.drain();
  EXPECT_TRUE(got.child_exited);
  EXPECT_EQ(got.stop_requests, 2);
  EXPECT_EQ(got.reloads, 2);
  EXPECT_FALSE(readable(pipe));
  const auto none = pipe.drain();
  EXPECT_FALSE(none.child_exited);
  EXPECT_EQ(none.stop_requests, 0);
  EXPECT_EQ(none.reloads, 0);
}

TEST(SignalPipe, GivesTheSignalsBackWhenItGoes) {
  {
    SignalPipe pipe({SIGHUP});
    struct sigaction now {};
    ::sigaction(SIGHUP, nullptr, &now);
    EXPECT_NE(now.sa_handler, SIG_DFL);
  }
  struct sigaction after {};
  ::sigaction(SIGHUP, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL);
  ::sigaction(SIGPIPE, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_IGN) << "a closed peer is EPIPE, never a dead process";
}

}  // namespace
}  // namespace ccmesh
