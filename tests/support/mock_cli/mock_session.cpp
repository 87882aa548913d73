#include "mock_session.hpp"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <thread>

namespace ccmesh::mock_cli {
namespace {

// The text of a user message's content: a string, or the text blocks of an array joined.
bool userContent(const Json& message, std::string& prompt) {
  if (!message.is_object() || !message.contains("content")) return false;
  const Json& content = message["content"];
  if (content.is_string()) {
    prompt = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) return false;
  prompt.clear();
  for (const Json& block : content) {
    if (block.is_object() && block.value("type", "") == "text" && block.contains("text") &&
        block["text"].is_string()) {
      prompt += block["text"].get<std::string>();
    }
  }
  return true;
}

Json initializeResponse() {
  Json response;
  response["commands"] = Json::array();
  response["models"] = Json::array();
  response["output_style"] = "default";
  response["available_output_styles"] = Json::array({"default"});
  return response;
}

}  // namespace

MockSession::MockSession(const MockCliOptions& options, const std::string& session_id,
                         std::string cwd, std::vector<std::string> history,
                         TranscriptStore& transcript)
    : options_(options),
      state_{options.model, options.permission_mode, std::move(history)},
      messages_(session_id),
      out_(STDOUT_FILENO),
      in_(STDIN_FILENO),
      runner_(options, std::move(cwd), transcript, messages_, out_, *this) {}

int MockSession::run() {
  std::string line;
  while (true) {
    if (!queue_.empty()) {
      std::string prompt = std::move(queue_.front());
      queue_.pop_front();
      turn_running_ = true;
      interrupt_pending_ = false;
      runner_.run(prompt, state_);
      turn_running_ = false;
      interrupt_pending_ = false;
      continue;
    }
    LineReader::Status status = in_.next(line, -1);
    if (status == LineReader::Status::kLine) handleLine(line);
    if (status == LineReader::Status::kEof) return 0;
  }
}

TurnHost::WaitEnd MockSession::waitUntil(std::optional<Clock::time_point> deadline) {
  return serve(deadline);
}

TurnHost::WaitEnd MockSession::waitForAnswer(const std::string& request_id, ControlAnswer& answer) {
  awaited_request_ = request_id;
  answer_.reset();
  WaitEnd end = serve(std::nullopt);
  if (end == WaitEnd::kAnswered) answer = std::move(*answer_);
  awaited_request_.clear();
  answer_.reset();
  return end;
}

TurnHost::WaitEnd MockSession::serve(std::optional<Clock::time_point> deadline) {
  std::string line;
  while (true) {
    if (interrupt_pending_) {
      interrupt_pending_ = false;
      return WaitEnd::kInterrupted;
    }
    if (answer_) return WaitEnd::kAnswered;
    Clock::time_point now = Clock::now();
    if (deadline && now >= *deadline) return WaitEnd::kDeadline;
    if (in_.exhausted()) {
      if (!deadline) return WaitEnd::kEof;
      std::this_thread::sleep_until(*deadline);
      return WaitEnd::kDeadline;
    }
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count();
      timeout_ms = static_cast<int>(std::min<long long>(left, INT_MAX));
    }
    if (in_.next(line, timeout_ms) == LineReader::Status::kLine) handleLine(line);
  }
}

void MockSession::handleLine(const std::string& line) {
  if (line.find_first_not_of(" \t\r") == std::string::npos) return;  // blank line
  Json message = Json::parse(line, nullptr, false);
  if (message.is_discarded() || !message.is_object()) {
    std::fprintf(stderr, "mock-cli: ignoring input line that is not a JSON object: %.200s\n",
                 line.c_str());
    return;
  }
  std::string type = message.contains("type") && message["type"].is_string()
                         ? message["type"].get<std::string>()
                         : std::string();
  if (type == "user") {
    handleUser(message);
  } else if (type == "control_request") {
    handleControlRequest(message);
  } else if (type == "control_response") {
    handleControlResponse(message);
  } else if (type == "control_cancel_request") {
    handleControlCancel(message);
  } else if (type != "keep_alive") {
    std::fprintf(stderr, "mock-cli: ignoring input message of type '%s'\n", type.c_str());
  }
}

void MockSession::handleUser(const Json& message) {
  std::string prompt;
  if (!message.contains("message") || !userContent(message["message"], prompt)) {
    std::fputs("mock-cli: ignoring user message without message.content\n", stderr);
    return;
  }
  queue_.push_back(std::move(prompt));
}

void MockSession::handleControlRequest(const Json& message) {
  Json request_id = message.contains("request_id") ? message["request_id"] : Json("");
  const Json empty = Json::object();
  const Json& request =
      message.contains("request") && message["request"].is_object() ? message["request"] : empty;
  std::string subtype = request.contains("subtype") && request["subtype"].is_string()
                            ? request["subtype"].get<std::string>()
                            : std::string();
  if (subtype == "initialize") {
    out_.writeLine(StreamMessages::controlSuccess(request_id, initializeResponse()));
  } else if (subtype == "interrupt") {
    out_.writeLine(StreamMessages::controlSuccess(request_id, Json::object()));
    if (turn_running_) interrupt_pending_ = true;
  } else if (subtype == "set_model") {
    bool named = request.contains("model") && request["model"].is_string() &&
                 !request["model"].get<std::string>().empty();
    state_.model = named ? request["model"].get<std::string>() : options_.model;
    out_.writeLine(StreamMessages::controlSuccess(request_id, Json::object()));
  } else if (subtype == "get_context_usage") {
    // The real CLI's answer has many more fields; these are the ones ccmesh shows.
    const auto total = 1000 + 100 * state_.history.size();
    out_.writeLine(
        StreamMessages::controlSuccess(request_id, Json{{"totalTokens", total},
                                                        {"maxTokens", 200000},
                                                        {"percentage", total * 100 / 200000},
                                                        {"model", state_.model}}));
  } else if (subtype == "set_permission_mode") {
    if (request.contains("mode") && request["mode"].is_string()) {
      state_.permission_mode = request["mode"].get<std::string>();
    }
    out_.writeLine(StreamMessages::controlSuccess(request_id, Json::object()));
  } else {
    out_.writeLine(StreamMessages::controlError(request_id,
                                                "Unsupported control request subtype: " + subtype));
  }
}

void MockSession::handleControlResponse(const Json& message) {
  if (awaited_request_.empty() || !message.contains("response")) return;
  const Json& response = message["response"];
  if (!response.is_object() || response.value("request_id", Json()) != Json(awaited_request_)) {
    return;  // an answer to a request nobody waits for (any more)
  }
  ControlAnswer answer;
  if (response.value("subtype", Json()) == Json("success")) {
    answer.body = response.contains("response") && response["response"].is_object()
                      ? response["response"]
                      : Json::object();
  } else {
    answer.kind = ControlAnswer::Kind::kError;
    answer.error = response.contains("error") && response["error"].is_string()
                       ? response["error"].get<std::string>()
                       : std::string("control_response without an error text");
  }
  answer_ = std::move(answer);
}

void MockSession::handleControlCancel(const Json& message) {
  if (awaited_request_.empty() || !message.contains("request_id") ||
      message["request_id"] != Json(awaited_request_)) {
    return;
  }
  answer_ = ControlAnswer{ControlAnswer::Kind::kCancelled, Json::object(), ""};
}

}  // namespace ccmesh::mock_cli
