#include "heartbeat_echo_router.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <iterator>
#include <stdexcept>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

namespace ccmesh::bench {
namespace {

// The child: binds, reports its endpoint on `report`, echoes until `keep_alive` closes.
[[noreturn]] void runRouter(int report, int keep_alive) {
  {
    zmq::context_t context(1);
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:*");
    const std::string endpoint = router.get(zmq::sockopt::last_endpoint) + "\n";
    if (::write(report, endpoint.data(), endpoint.size()) < 0) ::_exit(1);
    ::close(report);
    std::array<zmq::pollitem_t, 2> items{
        {{router.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, keep_alive, ZMQ_POLLIN, 0}}};
    std::vector<zmq::message_t> frames;
    while (true) {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(-1));
      if (items[1].revents != 0) break;  // the parent closed its end (or died)
      while (true) {
        frames.clear();
        if (!zmq::recv_multipart(router, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
          break;
        }
        for (std::size_t i = 0; i < frames.size(); ++i) {
          const auto flags = i + 1 < frames.size()
                                 ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                 : zmq::send_flags::dontwait;
          (void)router.send(frames[i], flags);
        }
      }
    }
  }
  ::_exit(0);
}

}  // namespace

HeartbeatEchoRouter::HeartbeatEchoRouter() {
  int report[2];
  int keep_alive[2];
  if (::pipe(report) != 0 || ::pipe(keep_alive) != 0) throw std::runtime_error("pipe failed");
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::close(report[0]);
    ::close(keep_alive[1]);
    runRouter(report[1], keep_alive[0]);
  }
  ::close(report[1]);
  ::close(keep_alive[0]);
  keep_alive_ = keep_alive[1];
  char buffer[256];
  std::string text;
  pollfd readable{report[0], POLLIN, 0};
  while (text.find('\n') == std::string::npos && ::poll(&readable, 1, 10000) > 0) {
    const ssize_t got = ::read(report[0], buffer, sizeof buffer);
    if (got <= 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(report[0]);
  if (text.find('\n') == std::string::npos)
    throw std::runtime_error("the echo router did not start");
  endpoint_ = text.substr(0, text.find('\n'));
}

HeartbeatEchoRouter::~HeartbeatEchoRouter() {
  ::close(keep_alive_);
  for (int i = 0; i < 500; ++i) {  // up to 5 s to notice and leave
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    ::usleep(10000);  // polling a child's exit under a deadline
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace ccmesh::bench
