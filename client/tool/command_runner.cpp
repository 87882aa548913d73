#include "command_runner.hpp"

#include <filesystem>

#include "approval.hpp"
#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/curve_keys.hpp"
#include "human_output.hpp"
#include "json_output.hpp"
#include "transcript_view.hpp"

namespace ccmesh::client {
namespace {

// {"sessions":[...]}: the list result as an object, ready for successJson.
Json sessionsJson(const std::vector<msg::SessionInfo>& sessions) {
  Json fields = Json::object();
  fields["sessions"] = sessions;
  return fields;
}

// The transcript result with its turns instead of the raw JSONL.
Json transcriptJson(const msg::TranscriptResult& result) {
  return Json{{"session", result.session},
              {"session_id", result.session_id},
              {"entries", result.entries},
              {"bytes", result.bytes},
              {"dropped_entries", result.dropped_entries},
              {"last_entry_ms", result.last_entry_ms},
              {"complete", result.complete},
              {"cut", result.cut},
              {"turns", TranscriptView::toJson(TranscriptView::turns(result.jsonl))}};
}

// The context result with the CLI's usage as a JSON value, not text.
Json contextJson(const msg::ContextResult& result) {
  Json usage = Json::parse(result.usage, nullptr, false);
  return Json{{"session", result.session},
              {"usage", usage.is_discarded() ? Json(result.usage) : std::move(usage)}};
}

}  // namespace

int CommandRunner::exitStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
    case ErrorCode::kDuplicateId:
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
    out_ << jsonText(errorJson(error)) << "\n";
  } else {
    printError(err_, error, partial_shown);
  }
  out_.flush();
  return exitStatus(error.code);
}

int CommandRunner::run(const Command& command, Client& client,
                       const std::function<bool()>& should_cancel) {
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
      return finish(client.start(command.session, command.options), command.json, as_json,
                    ack("started"));
    case CommandKind::kFork:
      return finish(client.fork(command.fork_of, command.session, command.options), command.json,
                    as_json, ack("started"));
    case CommandKind::kTerminate:
      return finish(client.terminate(command.session), command.json, as_json, ack("terminated"));
    case CommandKind::kRestart:
      return finish(client.restart(command.session, command.keep_history, command.from_cut),
                    command.json, as_json, ack("restarted"));
    case CommandKind::kInfo:
      return finish(client.info(command.session), command.json, as_json,
                    [this](const msg::SessionInfo& v) { printInfo(out_, v); });
    case CommandKind::kMove:
      return finish(client.move(command.session, command.worker), command.json, as_json,
                    ack("moved"));
    case CommandKind::kSet:
      return finish(
          client.set(command.session, command.options.model, command.options.permission_mode),
          command.json, as_json, ack("set"));
    case CommandKind::kContext:
      return finish(client.context(command.session), command.json, contextJson,
                    [this](const msg::ContextResult& v) { printContext(out_, v); });
    case CommandKind::kUsage:
      return finish(client.usage(command.usage_by), command.json, as_json,
                    [this](const msg::UsageResult& v) { printUsage(out_, v); });
    case CommandKind::kBudget:
      return finish(client.budget(command.session, command.budget_add, command.budget_set,
                                  command.budget_reset),
                    command.json, as_json,
                    [this](const msg::BudgetResult& v) { printBudget(out_, v); });
    case CommandKind::kTranscript:
      return finish(client.transcript(command.session), command.json, transcriptJson,
                    [this](const msg::TranscriptResult& v) {
                      if (!v.complete) out_ << "(not whole: " << v.cut << ")\n";
                      TranscriptView::print(out_, TranscriptView::turns(v.jsonl));
                    });
    case CommandKind::kList:
      return finish(client.list(), command.json, sessionsJson,
                    [this](const std::vector<msg::SessionInfo>& v) { printList(out_, v); });
    case CommandKind::kCount:
      return finish(client.count(), command.json, as_json,
                    [this](const msg::CountResult& v) { printCount(out_, v); });
    case CommandKind::kStatus:
      return finish(client.status(), command.json, as_json,
                    [this](const msg::StatusResult& v) { printStatus(out_, v); });
    case CommandKind::kPing:
      return finish(client.ping(), command.json, as_json,
                    [this](const msg::PingResult& v) { printPing(out_, v); });
    case CommandKind::kWatch:
      return runWatch(command, client, should_cancel);
    case CommandKind::kKeygen:
      return runKeygen(command);
    case CommandKind::kPoolQuery:
      return runQuery(command, client, should_cancel);
    case CommandKind::kPoolCreate:
    case CommandKind::kPoolCheckout:
    case CommandKind::kPoolCheckin:
    case CommandKind::kPoolList:
    case CommandKind::kPoolInfo:
    case CommandKind::kPoolResize:
    case CommandKind::kPoolDelete:
      return runPool(command, client, should_cancel);
  }
  return 1;
}

int CommandRunner::runWatch(const Command& command, Client& client,
                            const std::function<bool()>& should_cancel) {
  auto print = [&](const msg::FeedEvent& event) {
    if (command.json) {
      out_ << jsonText(Json(event)) << "\n";
    } else {
      out_ << "#" << event.seq << " " << isoTime(event.time_ms) << " " << event.kind << ": "
           << event.text << "\n";
    }
    out_.flush();
  };
  const ReplyError ended = client.watch(command.session, command.watch_pool, print, should_cancel);
  if (ended.code == ErrorCode::kCancelled) return 0;  // Ctrl-C: the way a watch ends
  return report(ended, command.json);
}

int CommandRunner::runKeygen(const Command& command) {
  const std::string name = std::filesystem::path(command.session).filename().string();
  if (name.empty()) return reportUsage(UsageError{"keygen: NAME must name a file", command.json});
  CurveKeyPair pair;
  try {
    pair = generateCurveKeyPair();
    writeCurveKeyFiles(command.session, pair, name);
  } catch (const ConfigError& e) {
    return report(ReplyError{ErrorCode::kInternal, "internal", e.what(), ""}, command.json);
  }
  const std::string secret_file = command.session + ".key";
  const std::string public_file = command.session + ".pub";
  if (command.json) {
    Json fields{{"name", name},
                {"public_key", pair.public_key},
                {"secret_file", secret_file},
                {"public_file", public_file}};
    out_ << jsonText(successJson(fields)) << "\n";
  } else {
    out_ << "wrote " << secret_file << " (secret key, mode 0600: keep it private) and "
         << public_file << " (public key)\n"
         << "public key: " << pair.public_key << "\n"
         << "line for the broker's --clients-allow file: " << pair.public_key << " admin " << name
         << "   (or query instead of admin)\n"
         << "line for the broker's --workers-allow file: " << pair.public_key << " " << name
         << "\n";
  }
  out_.flush();
  return 0;
}

int CommandRunner::runQuery(const Command& command, Client& client,
                            const std::function<bool()>& should_cancel) {
  QueryOptions options;
  options.stream = command.stream && !command.json;  // JSON prints one object, no deltas
  options.timeout = command.query_timeout;           // 0: the session's own deadline applies
  options.should_cancel = should_cancel;
  options.on_permission = approvalHandler(command.approval, in_, err_);
  bool streamed = false;  // some delta text is already on stdout
  auto on_event = [&](const msg::Event& event) {
    if (event.kind != "delta" || event.text.empty()) return;
    out_ << event.text;
    out_.flush();
    streamed = true;
  };
  auto reply = command.kind == CommandKind::kPoolQuery
                   ? client.poolQuery(command.session, command.prompt, options, on_event)
                   : client.query(command.session, command.prompt, options, on_event);
  if (!reply.ok()) {
    if (streamed) out_ << "\n";
    return report(reply.error(), command.json, streamed);
  }
  if (command.json) {
    out_ << jsonText(successJson(Json(reply.value()))) << "\n";
  } else if (streamed) {
    out_ << "\n";
  } else {
    out_ << reply.value().text << "\n";
  }
  if (!command.json && !reply.value().pool.empty()) printAnsweredBy(out_, reply.value());
  out_.flush();
  return 0;
}

}  // namespace ccmesh::client
