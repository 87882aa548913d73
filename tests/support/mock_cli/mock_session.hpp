#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "line_reader.hpp"
#include "mock_cli_options.hpp"
#include "output_writer.hpp"
#include "stream_messages.hpp"
#include "transcript_store.hpp"
#include "turn_runner.hpp"

namespace ccmesh::mock_cli {

// The mock CLI's main loop: reads stream-json lines from stdin, answers control requests,
// queues user prompts and runs them one turn at a time, all on one thread. While a turn
// waits (/sleep, /hang, /tool) it keeps serving stdin through TurnHost's waits.
class MockSession : public TurnHost {
 public:
  MockSession(const MockCliOptions& options, const std::string& session_id, std::string cwd,
              std::vector<std::string> history, TranscriptStore& transcript);

  // Runs until stdin ends and every queued prompt is answered; returns the exit status.
  int run();

  WaitEnd waitUntil(std::optional<Clock::time_point> deadline) override;
  WaitEnd waitForAnswer(const std::string& request_id, ControlAnswer& answer) override;

 private:
  // Serves stdin until `deadline` (nullopt: none), an interrupt, the awaited answer, or (with
  // no deadline) the end of stdin.
  WaitEnd serve(std::optional<Clock::time_point> deadline);
  void handleLine(const std::string& line);
  void handleUser(const Json& message);
  void handleControlRequest(const Json& message);
  void handleControlResponse(const Json& message);
  void handleControlCancel(const Json& message);

  const MockCliOptions& options_;
  SessionState state_;
  StreamMessages messages_;
  OutputWriter out_;
  LineReader in_;
  TurnRunner runner_;
  std::deque<std::string> queue_;  // prompts waiting for their turn
  bool turn_running_ = false;
  bool interrupt_pending_ = false;       // an interrupt arrived for the running turn
  std::string awaited_request_;          // id of the CLI's control request the turn waits on
  std::optional<ControlAnswer> answer_;  // how that request was settled, once it was
};

}  // namespace ccmesh::mock_cli
