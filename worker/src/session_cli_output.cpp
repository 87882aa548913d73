// Session: what its CLI prints: stdout lines parsed into events for the running turn,
// control requests, and the stderr lines kept for crash reports.
#include <algorithm>

#include "ccmesh/worker/cli_messages.hpp"
#include "ccmesh/worker/session.hpp"

namespace ccmesh::worker {
namespace {

// stderr lines kept for crash reports, and how much of each.
constexpr std::size_t kStderrTailLines = 10;
constexpr std::size_t kStderrLineChars = 500;

}  // namespace

void Session::onOutputReadable(std::size_t budget) {
  if (!process_) return;
  process_->readOutput(budget);
  handleLines();
}

void Session::onErrorsReadable(std::size_t budget) {
  if (!process_) return;
  process_->readErrors(budget);
  handleErrorLines();
}

void Session::onInputWritable() {
  if (process_) process_->onInputWritable();
}

void Session::handleLines() {
  std::string line;
  while (process_ && process_->outputLines().nextLine(line)) handleEvent(parser_.parse(line));
  flushMirror();  // what this read brought, as one batch: the turn never waits for it
  if (!process_) return;
  if (const std::size_t dropped = process_->outputLines().takeOverflows(); dropped > 0) {
    const std::string why = "a line of CLI output exceeded " +
                            std::to_string(context_.max_line_bytes) + " bytes and was dropped";
    context_.log->error("[session {}] {}", name_, why);
    interruptTurn(ErrorCode::kInternal, why);
  }
}

void Session::handleErrorLines() {
  std::string line;
  while (process_ && process_->errorLines().nextLine(line)) noteErrorLine(line);
  if (process_) process_->errorLines().takeOverflows();
}

void Session::noteErrorLine(const std::string& line) {
  if (line.empty()) return;
  std::string shown = line.substr(0, kStderrLineChars);
  context_.log->info("[session {}] {}", name_, shown);
  stderr_tail_.push_back(std::move(shown));
  while (stderr_tail_.size() > kStderrTailLines) stderr_tail_.pop_front();
}

void Session::handleEvent(const CliEvent& event) {
  using Kind = CliEvent::Kind;
  switch (event.kind) {
    case Kind::kMalformed: {
      const uint64_t count = parser_.malformedLines();
      if (count <= 5 || count % 1000 == 0) {
        context_.log->warn("[session {}] ignoring malformed CLI output line ({}; {} so far)", name_,
                           event.problem, count);
      }
      break;
    }
    case Kind::kTextDelta:
      if (!running_ || event.from_subagent) break;
      running_->deltas += event.text;
      if (running_->stream) {
        observer_.onEvent(msg::Event{running_->id, running_->next_seq++, "delta", event.text});
      }
      break;
    case Kind::kAssistant:
      if (running_ && !event.from_subagent) running_->assistant_text += event.text;
      break;
    case Kind::kResult:
      flushMirror();  // a turn's entries reach the broker before its answer
      handleResult(event);
      break;
    case Kind::kControlResponse:
      if (event.request_id == cli_messages::kInitRequestId) {
        if (initialized_) break;
        initialized_ = true;
        context_.meter->onCliReady(now() - spawned_at_);
        if (event.subtype == "error") {
          context_.log->warn("[session {}] initialize failed: {}", name_, event.error);
        }
        if (state_ == SessionState::kStarting) {
          setState(SessionState::kIdle);
          pump();
        }
      } else if (onControlAnswer(event)) {
        break;
      } else if (event.subtype == "error") {
        context_.log->warn("[session {}] control request {} failed: {}", name_, event.request_id,
                           event.error);
      }
      break;
    case Kind::kControlRequest:
      handleControlRequest(event);
      break;
    case Kind::kControlCancel:
      withdrawQuestion(event.request_id);
      break;
    case Kind::kInit:
      context_.log->debug("[session {}] CLI init, session_id {}", name_, event.session_id);
      break;
    case Kind::kTranscriptMirror:
      mirror(event);
      break;
    case Kind::kIgnored:
      break;
  }
}

void Session::handleControlRequest(const CliEvent& event) {
  if (!process_) return;
  if (event.subtype == "can_use_tool") {
    askPermission(event);
  } else {
    context_.log->warn("[session {}] CLI sent unsupported control request '{}'", name_,
                       event.subtype);
    process_->send(cli_messages::unsupportedResponse(event.request_id, event.subtype));
  }
}

}  // namespace ccmesh::worker
