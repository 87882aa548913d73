#include "direct_claude.hpp"

#include <poll.h>

#include <stdexcept>
#include <thread>

#include "ccmesh/common/uuid.hpp"
#include "ccmesh/worker/cli_messages.hpp"

namespace ccmesh::bench {
namespace {

constexpr std::chrono::milliseconds kQuietLimit{30000};  // longest silence of a live CLI

using Clock = std::chrono::steady_clock;

}  // namespace

DirectClaude::DirectClaude(const std::string& program, const std::string& work_dir,
                           const std::string& home, const std::vector<std::string>& extra_env) {
  auto env = worker::CliCommand::currentEnvironment();
  env["HOME"] = home;
  env["CLAUDE_CONFIG_DIR"] = home + "/.claude";
  SessionOptions options;
  options.cwd = work_dir;
  const auto command =
      worker::CliCommand::build(worker::CliSettings{program, {}, extra_env}, options,
                                worker::ConversationStart::kNew, randomUuid(), env);
  const auto start = Clock::now();
  auto started = worker::CliProcess::start(command, worker::LineReader::kDefaultMaxLineBytes);
  if (!started) throw std::runtime_error("cannot start " + program + ": " + started.error());
  process_ = std::move(*started);
  process_->send(worker::cli_messages::initializeRequest(worker::cli_messages::kInitRequestId));
  while (true) {
    const auto event = nextEvent(kQuietLimit);
    if (event.kind == worker::CliEvent::Kind::kControlResponse &&
        event.request_id == worker::cli_messages::kInitRequestId) {
      break;
    }
  }
  cold_start_ = Clock::now() - start;
}

DirectClaude::~DirectClaude() {
  process_->beginStop(Clock::now(), std::chrono::milliseconds(3000));
  for (int i = 0; i < 300 && !process_->tryReap(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling its exit
  }
  // ~CliProcess kills the group if it is still there.
}

std::chrono::nanoseconds DirectClaude::firstDelta(const std::string& prompt) {
  const auto start = Clock::now();
  process_->send(worker::cli_messages::userMessage(prompt));
  std::chrono::nanoseconds first{-1};
  while (true) {
    const auto event = nextEvent(kQuietLimit);
    if (event.kind == worker::CliEvent::Kind::kTextDelta && first.count() < 0) {
      first = Clock::now() - start;
    } else if (event.kind == worker::CliEvent::Kind::kResult && event.solicited) {
      if (event.is_error) throw std::runtime_error("the turn failed: " + event.text);
      break;
    }
  }
  if (first.count() < 0) throw std::runtime_error("the CLI streamed no text delta");
  return first;
}

worker::CliEvent DirectClaude::nextEvent(std::chrono::milliseconds wait) {
  const auto give_up = Clock::now() + wait;
  std::string line;
  while (!process_->outputLines().nextLine(line)) {
    if (Clock::now() > give_up) throw std::runtime_error("the CLI went quiet");
    if (process_->outputFd() < 0) throw std::runtime_error("the CLI closed its output");
    pollfd fds[2] = {{process_->outputFd(), POLLIN, 0}, {process_->pendingInputFd(), POLLOUT, 0}};
    ::poll(fds, process_->pendingInputFd() >= 0 ? 2 : 1, 100);
    process_->onInputWritable();
    process_->readOutput(1u << 20);
    process_->readErrors(1u << 20);  // never let a full stderr pipe stall it
  }
  return parser_.parse(line);
}

}  // namespace ccmesh::bench
