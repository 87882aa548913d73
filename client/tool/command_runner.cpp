#include "command_runner.hpp"

#include "human_output.hpp"
#include "json_output.hpp"

namespace ccmesh::client {
namespace {

// {"sessions":[...]}: the list result as an object, ready for successJson.
Json sessionsJson(const std::vector<msg::SessionInfo>& sessions) {
  Json fields = Json::object();
  fields["sessions"] = sessions;
  return fields;
}

}  // namespace

int CommandRunner::exitStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return 2;
    case ErrorCode::kNotFound:
      return 3;
    case ErrorCode::kBusy:
      return 4;
    case ErrorCode::kTimeout:
      return 5;
    default:
      return 1;
  }
}

int CommandRunner::reportUsage(const UsageError& error) {
  ReplyError as_reply{ErrorCode::kBadRequest, "bad_request", error.message, ""};
  return report(as_reply, error.json);
}

int CommandRunner::report(const ReplyError& error, bool json, bool partial_shown) {
  if (json) {
    out_ << errorJson(error).dump() << "\n";
  } else {
    printError(err_, error, partial_shown);
  }
  out_.flush();
  return exitStatus(error.code);
}

int CommandRunner::run(const Command& command, Client& client,
                       const std::function<bool()>& should_cancel) {
  // Prints a successful result, as JSON fields or through its human printer.
  auto finish = [&](const auto& reply, auto&& to_fields, auto&& print_human) {
    if (!reply.ok()) return report(reply.error(), command.json);
    if (command.json) {
      out_ << successJson(to_fields(reply.value())).dump() << "\n";
    } else {
      print_human(reply.value());
    }
    out_.flush();
    return 0;
  };
  auto as_json = [](const auto& value) { return Json(value); };
  auto ack = [&](const char* verb) {
    return [this, verb](const msg::Ack& value) { printAck(out_, verb, value); };
  };

  switch (command.kind) {
    case CommandKind::kHelp:
      out_ << command.text;
      return 0;
    case CommandKind::kQuery:
      return runQuery(command, client, should_cancel);
    case CommandKind::kStart:
      return finish(client.start(command.session, command.options), as_json, ack("started"));
    case CommandKind::kTerminate:
      return finish(client.terminate(command.session), as_json, ack("terminated"));
    case CommandKind::kRestart:
      return finish(client.restart(command.session, command.keep_history), as_json,
                    ack("restarted"));
    case CommandKind::kInfo:
      return finish(client.info(command.session), as_json,
                    [this](const msg::SessionInfo& v) { printInfo(out_, v); });
    case CommandKind::kList:
      return finish(client.list(), sessionsJson,
                    [this](const std::vector<msg::SessionInfo>& v) { printList(out_, v); });
    case CommandKind::kCount:
      return finish(client.count(), as_json,
                    [this](const msg::CountResult& v) { printCount(out_, v); });
    case CommandKind::kStatus:
      return finish(client.status(), as_json,
                    [this](const msg::StatusResult& v) { printStatus(out_, v); });
    case CommandKind::kPing:
      return finish(client.ping(), as_json,
                    [this](const msg::PingResult& v) { printPing(out_, v); });
  }
  return 1;
}

int CommandRunner::runQuery(const Command& command, Client& client,
                            const std::function<bool()>& should_cancel) {
  QueryOptions options;
  options.stream = command.stream && !command.json;  // JSON prints one object, no deltas
  options.timeout = command.query_timeout;           // 0: the session's own deadline applies
  options.should_cancel = should_cancel;
  bool streamed = false;  // some delta text is already on stdout
  auto on_event = [&](const msg::Event& event) {
    if (event.kind != "delta" || event.text.empty()) return;
    out_ << event.text;
    out_.flush();
    streamed = true;
  };
  auto reply = client.query(command.session, command.prompt, options, on_event);
  if (!reply.ok()) {
    if (streamed) out_ << "\n";
    return report(reply.error(), command.json, streamed);
  }
  if (command.json) {
    out_ << successJson(Json(reply.value())).dump() << "\n";
  } else if (streamed) {
    out_ << "\n";
  } else {
    out_ << reply.value().text << "\n";
  }
  out_.flush();
  return 0;
}

}  // namespace ccmesh::client
