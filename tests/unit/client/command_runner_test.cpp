#include "command_runner.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "ccmesh/common/requests.hpp"
#include "fake_broker.hpp"

namespace ccmesh::client {
namespace {

using fakes::FakeBroker;
using nlohmann::json;

// A broker with one session "s": answers queries (streaming "Hel", "lo"), list, count,
// ping and start; queries for any other name get not_found, for "busy" get busy.
void scriptedBroker(const FakeBroker::Request& request, FakeBroker::Replier& reply) {
  auto error = [&](const char* code, const char* message, const char* partial = "") {
    msg::ErrorReply e;
    e.id = request.id;
    e.code = code;
    e.message = message;
    e.partial = partial;
    reply.send(MessageType::kError, e);
  };
  switch (request.type) {
    case MessageType::kQuery: {
      auto query = request.as<msg::Query>();
      if (query.session == "busy") return error("busy", "queue full");
      if (query.session == "slow") return error("timeout", "deadline passed", "Hel");
      if (query.session == "odd") return error("quota_exceeded", "no more");
      if (query.session != "s") return error("not_found", "no session 'x'");
      if (query.stream) {
        reply.send(MessageType::kEvent, msg::Event{query.id, 0, "delta", "Hel"});
        reply.send(MessageType::kEvent, msg::Event{query.id, 1, "delta", "lo"});
      }
      reply.send(MessageType::kResult,
                 msg::QueryResult{query.id, "s", "Hello", "sid", "w1", 7, 0.25, 1, 2});
      return;
    }
    case MessageType::kStart: {
      auto start = request.as<msg::Start>();
      if (start.options.model == "bad") return error("bad_request", "option model: no");
      reply.send(MessageType::kResult, msg::Ack{request.id, start.session, "w1", 1, "starting"});
      return;
    }
    case MessageType::kList: {
      msg::SessionInfo info;
      info.name = "s";
      info.worker = "w1";
      info.generation = 2;
      info.state = "idle";
      info.pid = 4321;
      reply.send(MessageType::kResult, msg::ListResult{request.id, {info}});
      return;
    }
    case MessageType::kCount:
      reply.send(MessageType::kResult, msg::CountResult{request.id, 1, {{"idle", 1}}});
      return;
    case MessageType::kInfo: {
      msg::SessionInfo info;
      info.name = request.as<msg::Info>().session;
      info.worker = "w1";
      info.state = "busy";
      info.config.model = "opus";
      reply.send(MessageType::kResult, msg::InfoResult{request.id, info});
      return;
    }
    case MessageType::kStatus: {
      msg::StatusResult status;
      status.id = request.id;
      status.version = "test";
      status.uptime_ms = 65000;
      status.workers.push_back(msg::WorkerInfo{"w1", 8, 1, {{"zone", "a"}}, 12});
      status.sessions = 3;
      status.pending_sessions = 2;
      status.requests_in_flight = 1;
      reply.send(MessageType::kResult, status);
      return;
    }
    case MessageType::kPing:
      reply.send(MessageType::kResult, msg::PingResult{request.id, "test", 4200});
      return;
    default:
      return;
  }
}

// Runs one `ccmesh` command line against a broker and keeps what it printed.
struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

Run run(const FakeBroker& broker, std::vector<std::string> args) {
  args.insert(args.begin(), {"--broker", broker.endpoint(), "--timeout", "5000"});
  auto command = CommandLine::parse(args, CommandLineContext{std::nullopt, "/"});
  EXPECT_TRUE(command.ok());
  if (!command.ok()) return {};
  Client client(ClientOptions{command->broker, command->timeout});
  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in;
  CommandRunner runner(out, err, in);
  Run result;
  result.status = runner.run(*command, client, {});
  result.out = out.str();
  result.err = err.str();
  return result;
}

TEST(CommandRunner, QueryPrintsTheAnswer) {
  FakeBroker broker(scriptedBroker);
  auto r = run(broker, {"query", "s", "hi"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "Hello\n");
  EXPECT_EQ(r.err, "");
}

TEST(CommandRunner, StreamingQueryPrintsDeltasThenANewline) {
  FakeBroker broker(scriptedBroker);
  auto r = run(broker, {"query", "s", "hi", "--stream"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "Hello\n");
  EXPECT_EQ(broker.waitFor(MessageType::kQuery, 1).at(0).as<msg::Query>().timeout_ms,
            5000u);  // --timeout given
}

TEST(CommandRunner, QueryJsonHasTheResultFields) {
  FakeBroker broker(scriptedBroker);
  auto r = run(broker, {"query", "s", "hi", "--json", "--stream"});
  EXPECT_EQ(r.status, 0);
  auto out = json::parse(r.out);
  EXPECT_EQ(out["ok"], true);
  EXPECT_EQ(out["session"], "s");
  EXPECT_EQ(out["text"], "Hello");
  EXPECT_EQ(out["session_id"], "sid");
  EXPECT_EQ(out["worker"], "w1");
  EXPECT_EQ(out["duration_ms"], 7);
  EXPECT_EQ(out["cost_usd"], 0.25);
  EXPECT_EQ(out["input_tokens"], 1);
  EXPECT_EQ(out["output_tokens"], 2);
}

TEST(CommandRunner, ErrorsMapToExitStatusAndStderr) {
  FakeBroker broker(scriptedBroker);
  auto missing = run(broker, {"query", "x", "hi"});
  EXPECT_EQ(missing.status, 3);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err, "error: not_found: no session 'x'\n");
  EXPECT_EQ(run(broker, {"query", "busy", "hi"}).status, 4);
  auto slow = run(broker, {"query", "slow", "hi"});
  EXPECT_EQ(slow.status, 5);
  EXPECT_NE(slow.err.find("error: timeout: deadline passed"), std::string::npos);
  EXPECT_NE(slow.err.find("Hel"), std::string::npos);  // the partial answer
  auto odd = run(broker, {"query", "odd", "hi"});
  EXPECT_EQ(odd.status, 1);
  EXPECT_EQ(odd.err, "error: quota_exceeded: no more\n");
  EXPECT_EQ(run(broker, {"start", "s", "--model", "bad"}).status, 2);
}

TEST(CommandRunner, ErrorJsonIsOneObjectOnStdout) {
  FakeBroker broker(scriptedBroker);
  auto r = run(broker, {"--json", "query", "slow", "hi"});
  EXPECT_EQ(r.status, 5);
  EXPECT_EQ(r.err, "");
  auto out = json::parse(r.out);
  EXPECT_EQ(out["ok"], false);
  EXPECT_EQ(out["error"]["code"], "timeout");
  EXPECT_EQ(out["error"]["message"], "deadline passed");
  EXPECT_EQ(out["error"]["partial"], "Hel");
}

TEST(CommandRunner, ListPrintsATableOrJson) {
  FakeBroker broker(scriptedBroker);
  auto table = run(broker, {"list"});
  EXPECT_EQ(table.status, 0);
  EXPECT_EQ(table.out,
            "NAME  STATE  WORKER  GEN  QUEUE  PID\n"
            "s     idle   w1      2    0      4321\n");
  auto out = json::parse(run(broker, {"list", "--json"}).out);
  EXPECT_EQ(out["ok"], true);
  ASSERT_EQ(out["sessions"].size(), 1u);
  EXPECT_EQ(out["sessions"][0]["name"], "s");
  EXPECT_EQ(out["sessions"][0]["pid"], 4321);
  EXPECT_TRUE(out["sessions"][0]["config"].is_object());
}

TEST(CommandRunner, CountPingAndStartPrintOneLine) {
  FakeBroker broker(scriptedBroker);
  EXPECT_EQ(run(broker, {"count"}).out, "1\n");
  auto count = json::parse(run(broker, {"count", "--json"}).out);
  EXPECT_EQ(count["count"], 1);
  EXPECT_EQ(count["states"]["idle"], 1);
  EXPECT_EQ(run(broker, {"ping"}).out, "pong from broker test (up 4 s)\n");
  EXPECT_EQ(run(broker, {"start", "t"}).out, "started t on w1 (generation 1, state starting)\n");
  auto ack = json::parse(run(broker, {"start", "t", "--json"}).out);
  EXPECT_EQ(ack["ok"], true);
  EXPECT_EQ(ack["session"], "t");
  EXPECT_EQ(ack["worker"], "w1");
  EXPECT_EQ(ack["generation"], 1);
  EXPECT_EQ(ack["state"], "starting");
}

TEST(CommandRunner, InfoPrintsKeyValueLinesOrOneObject) {
  FakeBroker broker(scriptedBroker);
  auto text = run(broker, {"info", "s"});
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("name: s\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("state: busy\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\"model\":\"opus\""), std::string::npos) << text.out;
  auto out = json::parse(run(broker, {"info", "s", "--json"}).out);
  EXPECT_EQ(out["ok"], true);
  for (const char* key :
       {"name", "worker", "generation", "state", "pid", "session_id", "restarts", "queue_depth",
        "turns", "last_error", "config", "last_used_ms", "rss_kb", "recycles"}) {
    EXPECT_TRUE(out.contains(key)) << key;
  }
  EXPECT_EQ(out["config"]["model"], "opus");
}

TEST(CommandRunner, StatusPrintsWorkersAndTotals) {
  FakeBroker broker(scriptedBroker);
  auto text = run(broker, {"status"});
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(
      text.out.find("WORKER  CAPACITY  SESSIONS  LIVE  HIBERNATED  HEARTBEAT_AGE_MS  COST_USD  "
                    "LABELS\n"
                    "w1      8         1         0/-   0           12                0.0000    "
                    "zone=a\n"),
      std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("sessions: 3 (2 waiting for a worker)"), std::string::npos);
  auto out = json::parse(run(broker, {"status", "--json"}).out);
  EXPECT_EQ(out["version"], "test");
  EXPECT_EQ(out["uptime_ms"], 65000);
  EXPECT_EQ(out["workers"][0]["id"], "w1");
  EXPECT_EQ(out["workers"][0]["labels"]["zone"], "a");
  EXPECT_EQ(out["workers"][0]["live"], 0);
  EXPECT_EQ(out["workers"][0]["hibernated"], 0);
  EXPECT_EQ(out["pending_sessions"], 2);
  EXPECT_EQ(out["requests_in_flight"], 1);
  EXPECT_EQ(out["malformed_messages"], 0);
}

TEST(CommandRunner, UsageErrorsAreBadRequestWithStatusTwo) {
  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in;
  CommandRunner runner(out, err, in);
  EXPECT_EQ(runner.reportUsage(UsageError{"unknown command 'x'", false}), 2);
  EXPECT_EQ(err.str(), "error: bad_request: unknown command 'x'\n");
  EXPECT_EQ(runner.reportUsage(UsageError{"unknown command 'x'", true}), 2);
  EXPECT_EQ(json::parse(out.str())["error"]["code"], "bad_request");
}

TEST(CommandRunner, ExitStatusFollowsTheProtocolTable) {
  EXPECT_EQ(CommandRunner::exitStatus(ErrorCode::kBadRequest), 2);
  EXPECT_EQ(CommandRunner::exitStatus(ErrorCode::kDuplicateId), 2);
  EXPECT_EQ(CommandRunner::exitStatus(ErrorCode::kNotFound), 3);
  EXPECT_EQ(CommandRunner::exitStatus(ErrorCode::kBusy), 4);
  EXPECT_EQ(CommandRunner::exitStatus(ErrorCode::kTimeout), 5);
  EXPECT_EQ(CommandRunner::exitStatus(ErrorCode::kCancelled), 1);
  EXPECT_EQ(CommandRunner::exitStatus(ErrorCode::kAlreadyExists), 1);
  EXPECT_EQ(CommandRunner::exitStatus(ErrorCode::kInternal), 1);
}

}  // namespace
}  // namespace ccmesh::client
