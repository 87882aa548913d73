#include "turn_runner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "mock_ids.hpp"

namespace ccmesh::mock_cli {
namespace {

using Kind = PromptCommand::Kind;

constexpr std::string_view kBigPattern = "0123456789abcdef";
constexpr uint64_t kBigDeltaBytes = 65536;
// Stands in for the /big text in a dumped line; replaced by the streamed bytes.
constexpr std::string_view kBigPlaceholder = "@@ccmesh-mock-cli-big-text@@";
constexpr int kSleepDeltas = 10;
// What an answered turn costs. Like the real CLI, a result's total_cost_usd is what the
// process spent since it started.
constexpr double kTurnCostUsd = 0.01;
// /deltas writes its lines and texts in chunks of about this many bytes, one write each, so
// the mock produces deltas faster than anything downstream consumes them.
constexpr size_t kDeltasChunkBytes = 64 * 1024;

// Splits `text` into `pieces` parts of nearly equal byte length, never inside a UTF-8
// sequence (so a part may come out shorter, or empty, around multi-byte characters).
std::vector<std::string> splitEvenly(const std::string& text, size_t pieces) {
  std::vector<std::string> parts;
  size_t begin = 0;
  for (size_t i = 1; i <= pieces; ++i) {
    size_t end = i == pieces ? text.size() : text.size() * i / pieces;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    end = std::max(end, begin);
    parts.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  return parts;
}

std::string joinHistory(const std::vector<std::string>& earlier) {
  if (earlier.empty()) return "(none)";
  std::string joined;
  for (size_t i = 0; i < earlier.size(); ++i) {
    if (i > 0) joined += " | ";
    joined += earlier[i];
  }
  return joined;
}

// Writes `length` bytes of the /big text starting at `offset`, from `tile`, which holds
// kBigDeltaBytes + kBigPattern.size() bytes of the pattern starting at its first character.
void writeBigText(OutputWriter& out, const std::string& tile, uint64_t offset, uint64_t length) {
  while (length > 0) {
    size_t phase = offset % kBigPattern.size();
    size_t take = static_cast<size_t>(std::min(length, kBigDeltaBytes));
    out.writeRaw(std::string_view(tile).substr(phase, take));
    offset += take;
    length -= take;
  }
}

// Writes `unit` `count` times, about kDeltasChunkBytes per write.
void writeRepeated(OutputWriter& out, std::string_view unit, uint64_t count) {
  std::string chunk;
  for (uint64_t i = 0; i < count; ++i) {
    chunk += unit;
    if (chunk.size() >= kDeltasChunkBytes) {
      out.writeRaw(chunk);
      chunk.clear();
    }
  }
  out.writeRaw(chunk);
}

// The answer of a /tool turn: what the host decided about using `name` with `input`.
std::string toolVerdict(const std::string& name, const Json& input, const ControlAnswer& reply) {
  const std::string denied = "tool " + name + " denied: ";
  if (reply.kind == ControlAnswer::Kind::kCancelled) return denied + "cancelled";
  if (reply.kind == ControlAnswer::Kind::kError) return denied + reply.error;
  auto text = [&](const char* key) {
    auto it = reply.body.find(key);
    return it != reply.body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (text("behavior") != "allow") return denied + text("message");
  auto updated = reply.body.find("updatedInput");
  const bool has_update = updated != reply.body.end() && !updated->is_null();
  return "tool " + name + " allowed: " + dumpCompact(has_update ? *updated : input);
}

}  // namespace

TurnRunner::TurnRunner(const MockCliOptions& options, std::string cwd, TranscriptStore& transcript,
                       const StreamMessages& messages, OutputWriter& out, TurnHost& host)
    : options_(options),
      cwd_(std::move(cwd)),
      transcript_(transcript),
      messages_(messages),
      out_(out),
      host_(host) {}

void TurnRunner::run(const std::string& prompt, SessionState& state) {
  Turn turn;
  turn.start = Clock::now();
  turn.model = state.model;
  turn.permission_mode = state.permission_mode;
  turn.message_id = newMessageId();
  turn.number = state.history.size() + 1;
  turn.input_tokens = TokenUsage::estimate(prompt.size());

  out_.writeLine(messages_.systemInit(cwd_, turn.model, options_.tools(), state.permission_mode));
  if (options_.max_budget_usd > 0 && spent_usd_ >= options_.max_budget_usd) {
    // As the real CLI: a spent budget ends the turn before any request.
    Json result = messages_.successResult("", elapsedMs(turn), TokenUsage{0, 0});
    result["total_cost_usd"] = spent_usd_;
    result["subtype"] = "error_max_budget_usd";
    result["is_error"] = true;
    result.erase("result");
    result["errors"] =
        Json::array({"Reached maximum budget ($" + std::to_string(options_.max_budget_usd) + ")"});
    out_.writeLine(result);
    return;
  }
  PromptCommand command = PromptCommand::parse(prompt);
  std::string text;
  if (command.kind != Kind::kSleep && command.kind != Kind::kBig && command.kind != Kind::kDeltas &&
      command.kind != Kind::kTool) {
    text = simpleAnswer(command, prompt, turn, state.history);
  }
  state.history.push_back(prompt);
  for (const auto& entry : transcript_.takeFork()) record(entry);
  record(transcript_.appendUser(prompt));

  switch (command.kind) {
    case Kind::kExit:
      std::exit(static_cast<int>(command.number & 0xff));
    case Kind::kCrash:
      runCrash(turn);
    case Kind::kHang:
      runHang(turn);
      return;
    case Kind::kSleep:
      runSleep(turn, prompt, command.number);
      return;
    case Kind::kBig:
      runBig(turn, command.number);
      return;
    case Kind::kDeltas:
      runDeltas(turn, command.number, command.size);
      return;
    case Kind::kTool:
      runTool(turn, command.text, command.input);
      return;
    case Kind::kStderr:
      std::fprintf(stderr, "%s\n", command.text.c_str());
      std::fflush(stderr);
      break;
    case Kind::kGrow:
      grow(command.number);
      break;
    case Kind::kMirrorGarbage:
      emitMirrorGarbage();
      break;
    default:
      break;
  }
  answer(turn, text);
}

std::string TurnRunner::simpleAnswer(const PromptCommand& command, const std::string& prompt,
                                     const Turn& turn,
                                     const std::vector<std::string>& earlier) const {
  switch (command.kind) {
    case Kind::kHistory:
      return joinHistory(earlier);
    case Kind::kSystem:
      return options_.effectiveSystemPrompt();
    case Kind::kArgv:
      return dumpCompact(Json(options_.args));
    case Kind::kCwd:
      return cwd_;
    case Kind::kEnv: {
      const char* value = std::getenv(command.text.c_str());
      return value != nullptr ? std::string(value) : std::string("(unset)");
    }
    case Kind::kModel:
      return turn.model;
    case Kind::kMode:
      return turn.permission_mode;
    case Kind::kSpawn:
      return std::to_string(spawnLongLivedChild());
    case Kind::kPid:
      return std::to_string(::getpid());
    default:
      return "turn " + std::to_string(turn.number) + ": " + prompt;
  }
}

void TurnRunner::grow(uint64_t megabytes) {
  // A non-zero fill: every page is written, so all of it is resident.
  grown_.emplace_back(static_cast<size_t>(std::min<uint64_t>(megabytes, 4096)) << 20, '\x5a');
}

pid_t TurnRunner::spawnLongLivedChild() {
  pid_t pid = ::fork();
  if (pid == 0) {
    // Stays in the CLI's process group, like a tool's shell would; detached from its pipes.
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::execl("/bin/sleep", "sleep", "600", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

void TurnRunner::answer(const Turn& turn, const std::string& text) {
  TokenUsage usage{turn.input_tokens, TokenUsage::estimate(text.size())};
  if (options_.include_partial_messages) {
    emitStreamStart(turn);
    for (const std::string& chunk : splitEvenly(text, text.size() < 3 ? 1 : 3)) {
      emitEvent(StreamMessages::textDeltaEvent(chunk));
    }
    emitStreamEnd(usage.output_tokens);
  }
  finish(turn, text, usage);
}

void TurnRunner::finish(const Turn& turn, const std::string& text, const TokenUsage& usage) {
  out_.writeLine(messages_.assistant(turn.message_id, turn.model, text, usage));
  record(transcript_.appendAssistant(turn.model, text));
  Json result = paid(messages_.successResult(text, elapsedMs(turn), usage));
  if (!options_.json_schema.empty()) result["structured_output"] = Json{{"answer", text}};
  out_.writeLine(result);
}

void TurnRunner::runSleep(const Turn& turn, const std::string& prompt, uint64_t sleep_ms) {
  std::string text = "turn " + std::to_string(turn.number) + ": " + prompt;
  sleep_ms = std::min<uint64_t>(sleep_ms, 1000ULL * 1000 * 1000 * 1000);  // keep chrono sane
  auto sleep_start = Clock::now();
  auto at = [&](uint64_t step) {
    return sleep_start + std::chrono::microseconds(sleep_ms * 1000 * step / kSleepDeltas);
  };
  if (options_.include_partial_messages) emitStreamStart(turn);
  std::vector<std::string> chunks = splitEvenly(text, kSleepDeltas);
  for (int step = 0; step <= kSleepDeltas; ++step) {
    if (host_.waitUntil(at(step)) == TurnHost::WaitEnd::kInterrupted) {
      emitInterrupted(turn);
      return;
    }
    if (step < kSleepDeltas && options_.include_partial_messages) {
      emitEvent(StreamMessages::textDeltaEvent(chunks[step]));
    }
  }
  TokenUsage usage{turn.input_tokens, TokenUsage::estimate(text.size())};
  if (options_.include_partial_messages) emitStreamEnd(usage.output_tokens);
  finish(turn, text, usage);
}

void TurnRunner::runHang(const Turn& turn) {
  if (host_.waitUntil(std::nullopt) == TurnHost::WaitEnd::kInterrupted) {
    emitInterrupted(turn);
    return;
  }
  std::exit(0);  // stdin ended while hanging: leave without a result
}

void TurnRunner::runTool(const Turn& turn, const std::string& name, const std::string& input_text) {
  Json input = Json::parse(input_text, nullptr, false);
  if (input.is_discarded() || !input.is_object()) input = Json{{"command", input_text}};
  if (options_.permission_prompt_tool != "stdio") {
    // As the real CLI: without a host to ask, a tool that needs approval is refused.
    answer(turn, "tool " + name + " denied: " + name + " needs approval and nobody may be asked");
    return;
  }
  const std::string number = std::to_string(++tool_requests_);
  const std::string request_id = "mock_tool_" + number;
  out_.writeLine(
      StreamMessages::canUseToolRequest(request_id, name, input, "toolu_mock_" + number));
  ControlAnswer reply;
  switch (host_.waitForAnswer(request_id, reply)) {
    case TurnHost::WaitEnd::kInterrupted:
      emitInterrupted(turn);
      return;
    case TurnHost::WaitEnd::kAnswered:
      answer(turn, toolVerdict(name, input, reply));
      return;
    default:
      std::exit(0);  // stdin ended while waiting: leave without a result, as /hang does
  }
}

void TurnRunner::runCrash(const Turn& turn) {
  if (options_.include_partial_messages) {
    emitStreamStart(turn);
    emitEvent(StreamMessages::textDeltaEvent("partial before crash"));
  }
  std::fputs("mock-cli: crashing as asked\n", stderr);
  std::fflush(stderr);
  std::exit(3);
}

void TurnRunner::runBig(const Turn& turn, uint64_t size) {
  std::string tile;
  tile.reserve(kBigDeltaBytes + kBigPattern.size());
  while (tile.size() < kBigDeltaBytes + kBigPattern.size()) tile += kBigPattern;
  const std::string placeholder(kBigPlaceholder);
  TokenUsage usage{turn.input_tokens, TokenUsage::estimate(size)};

  if (options_.include_partial_messages) {
    emitStreamStart(turn);
    uint64_t offset = 0;
    do {
      uint64_t length = std::min(kBigDeltaBytes, size - offset);
      out_.writeLineWithBody(messages_.streamEvent(StreamMessages::textDeltaEvent(placeholder)),
                             placeholder, [&] { writeBigText(out_, tile, offset, length); });
      offset += length;
    } while (offset < size);
    emitStreamEnd(usage.output_tokens);
  }
  auto write_all = [&] { writeBigText(out_, tile, 0, size); };
  out_.writeLineWithBody(messages_.assistant(turn.message_id, turn.model, placeholder, usage),
                         placeholder, write_all);
  record(transcript_.appendAssistant(turn.model, "[" + std::to_string(size) + " bytes]"));
  out_.writeLineWithBody(paid(messages_.successResult(placeholder, elapsedMs(turn), usage)),
                         placeholder, write_all);
}

void TurnRunner::runDeltas(const Turn& turn, uint64_t count, uint64_t size) {
  // Every delta carries the same SIZE bytes of the pattern; the answer is COUNT of them.
  std::string piece;
  while (piece.size() < size) piece += kBigPattern;
  piece.resize(static_cast<size_t>(size));
  const std::string placeholder(kBigPlaceholder);
  TokenUsage usage{turn.input_tokens, TokenUsage::estimate(count * size)};
  if (options_.include_partial_messages) {
    emitStreamStart(turn);
    std::string line = dumpCompact(messages_.streamEvent(StreamMessages::textDeltaEvent(piece)));
    line.push_back('\n');
    writeRepeated(out_, line, count);
    emitStreamEnd(usage.output_tokens);
  }
  auto write_all = [&] { writeRepeated(out_, piece, count); };
  out_.writeLineWithBody(messages_.assistant(turn.message_id, turn.model, placeholder, usage),
                         placeholder, write_all);
  record(transcript_.appendAssistant(turn.model, "[" + std::to_string(count * size) + " bytes]"));
  out_.writeLineWithBody(paid(messages_.successResult(placeholder, elapsedMs(turn), usage)),
                         placeholder, write_all);
}

void TurnRunner::emitEvent(Json event) { out_.writeLine(messages_.streamEvent(std::move(event))); }

void TurnRunner::emitStreamStart(const Turn& turn) {
  emitEvent(StreamMessages::messageStartEvent(turn.message_id, turn.model, turn.input_tokens));
  emitEvent(StreamMessages::contentBlockStartEvent());
}

void TurnRunner::emitStreamEnd(uint64_t output_tokens) {
  emitEvent(StreamMessages::contentBlockStopEvent());
  emitEvent(StreamMessages::messageDeltaEvent(output_tokens));
  emitEvent(StreamMessages::messageStopEvent());
}

void TurnRunner::emitInterrupted(const Turn& turn) {
  Json result = messages_.interruptedResult(elapsedMs(turn), {turn.input_tokens, 0});
  result["total_cost_usd"] = spent_usd_;  // an interrupted turn costs nothing here
  out_.writeLine(result);
}

Json TurnRunner::paid(Json result) {
  spent_usd_ += kTurnCostUsd;
  result["total_cost_usd"] = spent_usd_;
  return result;
}

void TurnRunner::record(const Json& entry) {
  if (!options_.session_mirror) return;
  out_.writeLine(StreamMessages::transcriptMirror(transcript_.path().string(), entry));
}

void TurnRunner::emitMirrorGarbage() {
  const std::string path = transcript_.path().string();
  Json prefix;
  prefix["type"] = "transcript_mirror";
  prefix["filePath"] = path;
  std::string cut = dumpCompact(prefix);
  cut.pop_back();  // no closing brace: not JSON
  out_.writeRaw(cut + ",\"entries\":[\n");
  Json not_array = prefix;
  not_array["entries"] = "not an array";
  out_.writeLine(not_array);
  Json not_objects = prefix;
  not_objects["entries"] = Json::array({1, "two", nullptr, Json::array()});
  out_.writeLine(not_objects);
  Json huge_entry;
  huge_entry["type"] = "user";
  huge_entry["padding"] = std::string(5u << 20, 'x');
  Json oversized = prefix;
  oversized["entries"] = Json::array({std::move(huge_entry)});
  out_.writeLine(oversized);
}

uint64_t TurnRunner::elapsedMs(const Turn& turn) const {
  auto elapsed = Clock::now() - turn.start;
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
}

}  // namespace ccmesh::mock_cli
