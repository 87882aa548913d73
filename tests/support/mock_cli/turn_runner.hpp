#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mock_cli_options.hpp"
#include "output_writer.hpp"
#include "prompt_command.hpp"
#include "stream_messages.hpp"
#include "transcript_store.hpp"

namespace ccmesh::mock_cli {

using Clock = std::chrono::steady_clock;

// How the host settled a control request the CLI sent it (can_use_tool).
struct ControlAnswer {
  enum class Kind {
    kSuccess,    // a control_response of subtype success; `body` is its response
    kError,      // a control_response of another subtype; `error` is its error text
    kCancelled,  // a control_cancel_request for it
  };
  Kind kind = Kind::kSuccess;
  Json body;          // response.response of a success (an object)
  std::string error;  // response.error of an error
};

// What a running turn needs from the session that runs it: a way to let time pass while
// stdin keeps being served (control requests answered, prompts queued).
class TurnHost {
 public:
  enum class WaitEnd {
    kDeadline,     // the deadline passed
    kInterrupted,  // an interrupt control request arrived
    kEof,          // stdin ended; only reported when waiting without a deadline
    kAnswered,     // the awaited control request was answered or cancelled
  };

  virtual ~TurnHost() = default;

  // Serves stdin until `deadline` (nullopt: no deadline). Once stdin has ended, a wait with
  // a deadline simply sleeps until it.
  virtual WaitEnd waitUntil(std::optional<Clock::time_point> deadline) = 0;

  // Serves stdin until the control_response or control_cancel_request for `request_id`
  // arrives (kAnswered, `answer` filled in), an interrupt arrives, or stdin ends. Answers
  // to other request ids are ignored.
  virtual WaitEnd waitForAnswer(const std::string& request_id, ControlAnswer& answer) = 0;
};

// The session settings that live beyond one turn and that control requests change.
struct SessionState {
  std::string model;
  std::string permission_mode;
  std::vector<std::string> history;  // every prompt of the conversation so far, in order
};

// Runs one prompt as one turn: prints system/init, the answer (streamed when partial
// messages are on), the assistant message and the result, records the transcript entries,
// and carries out the special prompts (/sleep, /hang, /crash, /big, /deltas, /exit, /tool,
// ...).
class TurnRunner {
 public:
  TurnRunner(const MockCliOptions& options, std::string cwd, TranscriptStore& transcript,
             const StreamMessages& messages, OutputWriter& out, TurnHost& host);

  // Runs `prompt`; appends it to `state.history`. /crash, /exit and an end of stdin during
  // /hang end the process from here.
  void run(const std::string& prompt, SessionState& state);

 private:
  // What one turn knows about itself.
  struct Turn {
    Clock::time_point start;
    std::string model;
    std::string permission_mode;  // as set_permission_mode left it
    std::string message_id;
    size_t number = 0;  // n: this prompt's position in the conversation, from 1
    uint64_t input_tokens = 0;
  };

  std::string simpleAnswer(const PromptCommand& command, const std::string& prompt,
                           const Turn& turn, const std::vector<std::string>& earlier) const;
  // Starts `sleep 600` in this process group (for /spawn); returns its pid.
  static pid_t spawnLongLivedChild();
  void answer(const Turn& turn, const std::string& text);
  void runSleep(const Turn& turn, const std::string& prompt, uint64_t sleep_ms);
  void runHang(const Turn& turn);
  // /tool: asks the host can_use_tool for `name` with `input_text` and answers its verdict.
  // Ends a turn that answered `text`: the assistant message, its transcript entry and the
  // result (with structured_output under --json-schema, and its cost under a budget).
  void finish(const Turn& turn, const std::string& text, const TokenUsage& usage);
  void runTool(const Turn& turn, const std::string& name, const std::string& input_text);
  [[noreturn]] void runCrash(const Turn& turn);
  void runBig(const Turn& turn, uint64_t size);
  void runDeltas(const Turn& turn, uint64_t count, uint64_t size);
  // Allocates `megabytes` (at most 4096 per call), writes every page and keeps it.
  void grow(uint64_t megabytes);

  void emitEvent(Json event);
  void emitStreamStart(const Turn& turn);
  void emitStreamEnd(uint64_t output_tokens);
  void emitInterrupted(const Turn& turn);
  // Adds an answered turn's cost to what the process spent, written as the result's total.
  Json paid(Json result);
  void record(const Json& entry);
  // /mirror-garbage: transcript_mirror lines a consumer must survive (not JSON, entries not
  // an array, entries that are not objects, an entry of 5 MiB).
  void emitMirrorGarbage();
  uint64_t elapsedMs(const Turn& turn) const;

  const MockCliOptions& options_;
  std::string cwd_;
  TranscriptStore& transcript_;
  const StreamMessages& messages_;
  OutputWriter& out_;
  TurnHost& host_;
  std::vector<std::vector<char>> grown_;  // what /grow allocated, resident until exit
  uint64_t tool_requests_ = 0;            // can_use_tool requests sent (N of mock_tool_N)
  double spent_usd_ = 0;                  // what the turns cost so far (total_cost_usd)
};

}  // namespace ccmesh::mock_cli
