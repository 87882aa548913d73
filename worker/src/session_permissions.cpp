// Session: tool approval. The CLI asks (can_use_tool) before it runs a tool; the session's
// permission_handler decides who answers: nobody (deny), its permission_rules (policy), or
// the client whose query is running (client), with the rules applied first.
#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "ccmesh/common/limits.hpp"
#include "ccmesh/worker/cli_messages.hpp"
#include "ccmesh/worker/session.hpp"

namespace ccmesh::worker {
namespace {

// Room left in a body for everything of a permission_request besides the tool's input.
constexpr std::size_t kQuestionSlack = 64u << 10;

}  // namespace

void Session::askPermission(const CliEvent& event) {
  const std::string_view handler = options_.permissionHandler();
  const uint64_t query_id = running_ ? running_->id : 0;
  Question question{event.request_id, event.tool_name, event.tool_input, query_id, {}};
  if (handler == SessionOptions::kHandlerDeny) {
    return answerQuestion(question, false, {}, "handler deny",
                          "ccmesh: this session answers no permission prompts; allow " +
                              event.tool_name +
                              " with allowed_tools, permission_mode or permission_handler");
  }
  if (!options_.permission_rules.empty()) {
    const auto input = nlohmann::json::parse(event.tool_input, nullptr, false);
    const PolicyDecision decision = policy_.decide(event.tool_name, input);
    if (!decision.rule.empty()) {
      return answerQuestion(question, decision.allow, {}, "policy " + decision.rule,
                            "ccmesh: denied by the session's rule " + decision.rule);
    }
  }
  if (handler == SessionOptions::kHandlerPolicy) {
    return answerQuestion(question, false, {}, "policy",
                          "ccmesh: no rule of this session allows " + event.tool_name);
  }
  if (!running_) {
    return answerQuestion(question, false, {}, "client",
                          "ccmesh: no query is running whose client could answer");
  }
  if (event.tool_input.size() + event.suggestions.size() + kQuestionSlack > limits::kMaxBodyBytes) {
    return answerQuestion(question, false, {}, "client",
                          "ccmesh: the tool's input is too large to ask the client about");
  }
  const uint64_t timeout_ms = options_.permission_timeout_ms > 0
                                  ? options_.permission_timeout_ms
                                  : SessionOptions::kDefaultPermissionTimeoutMs;
  question.deadline = now() + Millis(timeout_ms);
  questions_.push_back(question);
  context_.log->info("[session {}] asking the client of query {} whether {} may run", name_,
                     query_id, event.tool_name);
  observer_.onPermissionRequest(
      msg::PermissionRequest{query_id, name_, event.request_id, event.tool_name, event.tool_input,
                             event.tool_use_id, event.suggestions, event.reason, timeout_ms});
}

void Session::onPermissionReply(const msg::PermissionReply& reply) {
  auto it = std::find_if(questions_.begin(), questions_.end(), [&reply](const Question& q) {
    return q.request == reply.request && q.query_id == reply.id;
  });
  if (it == questions_.end()) {
    context_.log->info("[session {}] an answer to question {} came after it was settled", name_,
                       reply.request);
    return;
  }
  const Question question = *it;
  questions_.erase(it);
  const std::string by = "client " + reply.decided_by;
  if (reply.behavior == msg::kAllow) {
    // A changed input is a new tool use: the session's deny rules apply to it too.
    if (!reply.updated_input.empty() && !options_.permission_rules.empty()) {
      const auto input = nlohmann::json::parse(reply.updated_input, nullptr, false);
      const PolicyDecision decision = policy_.decide(question.tool_name, input);
      if (!decision.allow && !decision.rule.empty()) {
        return answerQuestion(
            question, false, {}, by + ", then policy " + decision.rule,
            "ccmesh: the changed input is denied by the session's rule " + decision.rule);
      }
    }
    return answerQuestion(question, true, reply.updated_input, by, {});
  }
  if (reply.behavior == msg::kDeny) {
    return answerQuestion(question, false, {}, by,
                          reply.message.empty() ? "denied by the user" : reply.message);
  }
  answerQuestion(question, false, {}, by,
                 "ccmesh: the client's answer was neither allow nor deny ('" +
                     reply.behavior.substr(0, 32) + "')");
}

void Session::closeQuestions(uint64_t query_id, const std::string& why) {
  denyQuestions([query_id](const Question& q) { return q.query_id == query_id; }, "cancelled",
                [&why](const Question&) { return "ccmesh: " + why; });
}

void Session::expireQuestions(TimePoint t) {
  denyQuestions([t](const Question& q) { return q.deadline <= t; }, "timeout",
                [](const Question& q) {
                  return "ccmesh: nobody answered whether " + q.tool_name + " may run";
                });
}

void Session::denyQuestions(const std::function<bool(const Question&)>& which,
                            const std::string& decided_by,
                            const std::function<std::string(const Question&)>& why) {
  std::vector<Question> denied;
  std::erase_if(questions_, [&](const Question& question) {
    if (!which(question)) return false;
    denied.push_back(question);
    return true;
  });
  for (const auto& question : denied)
    answerQuestion(question, false, {}, decided_by, why(question));
}

void Session::withdrawQuestion(const std::string& request) {
  const auto removed = std::erase_if(
      questions_, [&request](const Question& question) { return question.request == request; });
  if (removed > 0) {
    context_.log->info("[session {}] the CLI withdrew its question {}", name_, request);
  }
}

std::optional<TimePoint> Session::nextQuestionDeadline() const {
  std::optional<TimePoint> next;
  for (const auto& question : questions_) {
    if (!next || question.deadline < *next) next = question.deadline;
  }
  return next;
}

void Session::answerQuestion(const Question& question, bool allow, std::string_view input,
                             const std::string& decided_by, std::string message) {
  std::optional<std::string> line;
  if (allow) {
    line =
        cli_messages::allowToolResponse(question.request, input.empty() ? question.input : input);
    if (!line) {
      allow = false;
      message = "ccmesh: the updated input is not a JSON object";
    }
  }
  if (!allow) line = cli_messages::denyToolResponse(question.request, message);
  // A CLI that has exited asks no more: the decision still goes to the log and the events.
  if (process_ && !process_->exited()) process_->send(*line);
  const std::string_view behavior = allow ? msg::kAllow : msg::kDeny;
  context_.log->info("[session {}] {} {} (query {}): decided by {}", name_,
                     allow ? "allowed" : "denied", question.tool_name, question.query_id,
                     decided_by);
  observer_.onPermissionDecision(
      msg::PermissionDecision{question.query_id, name_, question.request, question.tool_name,
                              std::string(behavior), decided_by, allow ? std::string() : message});
}

}  // namespace ccmesh::worker
