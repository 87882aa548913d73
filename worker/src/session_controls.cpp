// Session: live settings and context usage through the CLI's control requests: set_model and
// set_permission_mode between turns (kept in the session's options, so a restart or a move
// keeps them), and get_context_usage.
#include <algorithm>
#include <functional>

#include "ccmesh/worker/cli_messages.hpp"
#include "ccmesh/worker/session.hpp"

namespace ccmesh::worker {

void Session::setLive(const msg::Set& set) {
  if (running_ || draining_ || settingUp()) {
    replyError(set.id, ErrorCode::kBusy,
               "session " + name_ + " is answering a query; set applies between turns");
    return;
  }
  SessionOptions changed = options_;
  if (!set.model.empty()) changed.model = set.model;
  if (!set.permission_mode.empty()) changed.permission_mode = set.permission_mode;
  if (auto refused = context_.policy.check(changed)) {
    replyError(set.id, refused->code, refused->message);
    return;
  }
  if (!process_ || process_->exited()) {
    // No CLI to tell: the next one starts with these options.
    options_ = std::move(changed);
    std::vector<uint64_t> ack{set.id};
    sendAcks(ack);
    return;
  }
  // One change at a time: a model the CLI refuses leaves the mode unchanged too.
  if (!set.model.empty()) {
    askCli(Control{Control::Kind::kModel, set.id, set.model, set.permission_mode});
  } else {
    askCli(Control{Control::Kind::kPermissionMode, set.id, set.permission_mode, {}});
  }
}

void Session::askCli(Control control) {
  const char* prefix = control.kind == Control::Kind::kContext ? "ctx_" : "set_";
  const std::string request_id = prefix + std::to_string(++control_counter_);
  switch (control.kind) {
    case Control::Kind::kModel:
      process_->send(cli_messages::setModelRequest(request_id, control.value));
      break;
    case Control::Kind::kPermissionMode:
      process_->send(cli_messages::setPermissionModeRequest(request_id, control.value));
      break;
    case Control::Kind::kContext:
      process_->send(cli_messages::contextUsageRequest(request_id));
      break;
  }
  control.deadline = now() + kControlTimeout;
  controls_[request_id] = std::move(control);
}

void Session::askContext(uint64_t id) {
  if (!process_ || process_->exited() || !initialized_) {
    replyError(id, ErrorCode::kUnavailable,
               "session " + name_ + " has no CLI running (" +
                   std::string(sessionStateName(state_)) + "); a query starts it");
    return;
  }
  askCli(Control{Control::Kind::kContext, id, {}, {}});
}

bool Session::onControlAnswer(const CliEvent& event) {
  auto it = controls_.find(event.request_id);
  if (it == controls_.end()) return false;
  const Control control = it->second;
  controls_.erase(it);
  const bool ok = event.subtype == "success";
  if (control.kind == Control::Kind::kContext) {
    if (ok) {
      observer_.onContext(msg::ContextResult{control.reply_id, name_, event.response});
    } else {
      replyError(control.reply_id, ErrorCode::kUnavailable,
                 "the CLI did not report its context: " + event.error);
    }
    return true;
  }
  if (!ok) {
    replyError(control.reply_id, ErrorCode::kBadRequest, "the CLI refused: " + event.error);
    pump();
    return true;
  }
  if (control.kind == Control::Kind::kModel) {
    options_.model = control.value;
    if (!control.then_mode.empty()) {
      askCli(Control{Control::Kind::kPermissionMode, control.reply_id, control.then_mode, {}});
      return true;
    }
  } else {
    options_.permission_mode = control.value;
  }
  context_.log->info("[session {}] now model {} and permission mode {}", name_,
                     options_.model.empty() ? "(default)" : options_.model,
                     options_.permission_mode.empty() ? "(default)" : options_.permission_mode);
  std::vector<uint64_t> ack{control.reply_id};
  sendAcks(ack);
  pump();  // prompts held while the CLI changed
  return true;
}

void Session::expireControls(TimePoint t) {
  // Checked on every timer tick: build the message only when something is overdue.
  const auto due = nextControlDeadline();
  if (!due || *due > t) return;
  endControls([t](const Control& control) { return control.deadline <= t; }, ErrorCode::kTimeout,
              "session " + name_ + ": its CLI did not answer within " +
                  std::to_string(kControlTimeout.count()) + " ms");
  pump();  // prompts held while the CLI changed
}

std::optional<TimePoint> Session::nextControlDeadline() const {
  std::optional<TimePoint> next;
  for (const auto& [request_id, control] : controls_) {
    if (!next || control.deadline < *next) next = control.deadline;
  }
  return next;
}

void Session::failControls(const std::string& why) {
  endControls([](const Control&) { return true; }, ErrorCode::kUnavailable, why);
}

void Session::endControls(const std::function<bool(const Control&)>& which, ErrorCode code,
                          const std::string& why) {
  // One control at a time per request (a set asks for its mode once its model is taken).
  std::vector<uint64_t> ended;
  std::erase_if(controls_, [&](const auto& entry) {
    if (!which(entry.second)) return false;
    ended.push_back(entry.second.reply_id);
    return true;
  });
  for (uint64_t id : ended) replyError(id, code, why);
}

bool Session::settingUp() const {
  return std::any_of(controls_.begin(), controls_.end(), [](const auto& entry) {
    return entry.second.kind != Control::Kind::kContext;
  });
}

}  // namespace ccmesh::worker
