// CURVE on both broker ports: only listed keys get in, each on the port its list is for;
// roles limit what a client may do; quotas; allow-lists reload on SIGHUP.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "ccmesh/common/curve_keys.hpp"
#include "ccmesh/common/handshake_watch.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

using Clock = std::chrono::steady_clock;

// A deadline short enough to tell "refused at once" from "waited for the deadline".
constexpr Millis kClientDeadline{10000};

// How a raw DEALER's security handshake with a broker port ended.
enum class Handshake { kSucceeded, kFailed, kUndecided };

class CurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"broker", "alice", "bob", "carol", "w1", "w2"}) {
      keys_[name] = generateCurveKeyPair();
      writeCurveKeyFiles(keyPath(name), keys_[name], name);
    }
    writeClients({{"alice", "admin"}, {"bob", "query"}});
    writeWorkers({"w1"});
  }

  // Starts the broker with CURVE and the two lists, plus `extra` arguments.
  void startBroker(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--curve-secret", keyPath("broker") + ".key", "--clients-allow",
                                  clientsFile(),    "--workers-allow",          workersFile()};
    args.insert(args.end(), extra.begin(), extra.end());
    cluster_ = std::make_unique<Cluster>(args);
  }

  std::string keyPath(const std::string& name) const { return keys_dir_.path() + "/" + name; }
  std::string clientsFile() const { return keys_dir_.path() + "/clients.allow"; }
  std::string workersFile() const { return keys_dir_.path() + "/workers.allow"; }

  // Rewrites a file atomically, so a reload never reads half of it.
  static void writeAtomically(const std::string& path, const std::string& text) {
    const std::string temp = path + ".new";
    std::ofstream(temp) << text;
    std::filesystem::rename(temp, path);
  }
  void writeClients(const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string text = "# clients: key role name\n";
    for (const auto& [name, role] : entries) {
      text += keys_.at(name).public_key + " " + role + " " + name + "\n";
    }
    writeAtomically(clientsFile(), text);
  }
  void writeWorkers(const std::vector<std::string>& names) {
    std::string text = "# workers\n";
    for (const auto& name : names) text += keys_.at(name).public_key + " " + name + "\n";
    writeAtomically(workersFile(), text);
  }

  // What a peer holding `name`'s secret key loads to talk to the broker.
  CurveClientKeys keysOf(const std::string& name, const std::string& server = "broker") const {
    return loadCurveClientKeys(keyPath(server) + ".pub", keyPath(name) + ".key");
  }

  std::unique_ptr<client::Client> clientAs(const std::string& name,
                                           const std::string& server = "broker") const {
    client::ClientOptions options;
    options.broker = cluster_->frontend();
    options.timeout = kClientDeadline;
    options.curve = keysOf(name, server);
    return std::make_unique<client::Client>(options);
  }

  // Starts worker `id` with the keys of `key_name` and waits until the broker lists it.
  void joinWorker(const std::string& id, const std::string& key_name) {
    cluster_->spawnWorker(id, {"--curve-server-key", keyPath("broker") + ".pub", "--curve-secret",
                               keyPath(key_name) + ".key"});
    auto admin = clientAs("alice");
    ASSERT_TRUE(waitFor([&] {
      auto status = admin->status();
      if (!status) return false;
      for (const auto& worker : status->workers) {
        if (worker.id == id) return true;
      }
      return false;
    })) << cluster_->logs();
  }

  // Connects a raw DEALER to `endpoint` (with `keys`, or none) and watches its handshake.
  static Handshake handshakeWith(const std::string& endpoint,
                                 const std::optional<CurveClientKeys>& keys) {
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    applyCommonOptions(socket);
    if (keys) applyCurveClient(socket, *keys);
    HandshakeWatch watch(context, socket);
    socket.connect(endpoint);
    Handshake outcome = Handshake::kUndecided;
    waitFor([&] {
      watch.drain();
      if (watch.failure()) outcome = Handshake::kFailed;
      if (watch.succeeded()) outcome = Handshake::kSucceeded;
      return outcome != Handshake::kUndecided;
    });
    return outcome;
  }

  // Sends one request of any type as `name` on a raw DEALER and returns the error it got,
  // if its final reply was an error.
  std::optional<msg::ErrorReply> rawRequestAs(const std::string& name, MessageType type) {
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    applyCommonOptions(socket);
    applyCurveClient(socket, keysOf(name));
    socket.connect(cluster_->frontend());
    if (sendBody(socket, {}, type, msg::Plain{77}) != SendStatus::kSent) return std::nullopt;
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, kEventDeadline) <= 0) return std::nullopt;
    std::vector<zmq::message_t> frames;
    bool oversized = false;
    if (!receiveMessage(socket, frames, oversized)) return std::nullopt;
    auto envelope = decodeFrames(frames);
    if (!envelope || envelope->type != MessageType::kError) return std::nullopt;
    auto error = decodeBody<msg::ErrorReply>(*envelope);
    if (!error) return std::nullopt;
    return error.value();
  }

  TempDir keys_dir_;                          // key files and allow-lists
  std::map<std::string, CurveKeyPair> keys_;  // name -> its pair
  std::unique_ptr<Cluster> cluster_;          // the broker (and workers) under test
};

// A worker the broker will never take exits at once with status 1, its log saying what to
// fix (`hint`), well before the test's deadline.
void expectExitsRefused(Process& worker, const std::string& hint) {
  const int status = worker.waitExit(kEventDeadline);
  ASSERT_NE(status, -1) << "still running at the deadline:\n" << worker.log();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 1) << worker.log();
  EXPECT_NE(worker.log().find(hint), std::string::npos) << worker.log();
  EXPECT_NE(worker.log().find("start the worker again"), std::string::npos) << worker.log();
}

// A failed call that came back as `unauthorized`, well before its deadline.
void expectRefusedFast(const client::ReplyError& error, Clock::time_point began) {
  EXPECT_EQ(error.code, ErrorCode::kUnauthorized) << error.message;
  EXPECT_LT(Clock::now() - began, kClientDeadline) << "the refusal waited for the deadline";
}

TEST_F(CurveTest, ListedKeysGetInAndSessionsKnowTheirCreator) {
  startBroker();
  joinWorker("w1", "w1");
  auto alice = clientAs("alice");
  auto started = alice->start("s1");
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto answer = alice->query("s1", "hello");
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->text, "turn 1: hello");
  auto info = alice->info("s1");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->creator, "alice");
  auto status = alice->status();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->curve);
  EXPECT_FALSE(status->insecure);
}

TEST_F(CurveTest, NoKeyOrUnknownKeyOrWrongBrokerKeyGetsUnauthorizedAtOnce) {
  startBroker();
  auto began = Clock::now();
  auto plain = cluster_->client(kClientDeadline)->ping();
  ASSERT_FALSE(plain.ok());
  expectRefusedFast(plain.error(), began);

  writeCurveKeyFiles(keyPath("mallory"), generateCurveKeyPair(), "mallory");
  began = Clock::now();
  auto unknown = clientAs("mallory")->ping();
  ASSERT_FALSE(unknown.ok());
  expectRefusedFast(unknown.error(), began);

  // The right own key, but the broker's key is someone else's.
  began = Clock::now();
  auto wrong_server = clientAs("alice", "carol")->list();
  ASSERT_FALSE(wrong_server.ok());
  expectRefusedFast(wrong_server.error(), began);

  auto status = clientAs("alice")->status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_GE(status->refused_handshakes, 1u);
}

TEST_F(CurveTest, WorkersPortTakesOnlyWorkerKeys) {
  startBroker();
  const auto& backend = cluster_->backend();
  EXPECT_EQ(handshakeWith(backend, std::nullopt), Handshake::kFailed);
  EXPECT_EQ(handshakeWith(backend, keysOf("alice")), Handshake::kFailed);  // a client key
  EXPECT_EQ(handshakeWith(backend, keysOf("w2")), Handshake::kFailed);     // not listed
  EXPECT_EQ(handshakeWith(backend, keysOf("w1")), Handshake::kSucceeded);
  // The frontend the other way round: a worker key is no client.
  EXPECT_EQ(handshakeWith(cluster_->frontend(), keysOf("w1")), Handshake::kFailed);
  EXPECT_EQ(handshakeWith(cluster_->frontend(), keysOf("bob")), Handshake::kSucceeded);
}

TEST_F(CurveTest, ClientKeyCannotRegisterAsWorker) {
  startBroker();
  Process& intruder =
      cluster_->spawnWorker("intruder", {"--curve-server-key", keyPath("broker") + ".pub",
                                         "--curve-secret", keyPath("alice") + ".key"});
  // Refused for good, the worker gives up at once rather than knocking forever.
  expectExitsRefused(intruder, "--workers-allow");
  auto admin = clientAs("alice");
  auto status = admin->status();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->workers.empty());
  auto started = admin->start("s");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->state, "pending");  // nowhere to place it
}

// w2's key connects claiming to be w1. The broker refuses every message it sends, so it
// never registers and never hosts w1's session. (Taking over the routing id "w1" still cuts
// the real w1 off until it reconnects: see docs/SECURITY.md.)
TEST_F(CurveTest, WorkerKeyCannotTakeOverAnotherWorkersId) {
  writeWorkers({"w1", "w2"});
  startBroker();
  joinWorker("w1", "w1");
  const pid_t real_w1 = cluster_->worker("w1").pid();
  auto alice = clientAs("alice");
  ASSERT_TRUE(alice->start("s1").ok());
  auto before = alice->query("s1", "hello");
  ASSERT_TRUE(before.ok()) << before.error().message;

  Process& impostor = cluster_->spawnWorkerAs(
      "impostor", "w1",
      {"--curve-server-key", keyPath("broker") + ".pub", "--curve-secret", keyPath("w2") + ".key"});
  bool impostor_hosted = false;  // a CLI ever ran under the impostor
  auto watchImpostor = [&] {
    for (pid_t child : childrenOf(impostor.pid())) {
      std::ifstream cmdline("/proc/" + std::to_string(child) + "/cmdline");
      std::string argv0;
      std::getline(cmdline, argv0, '\0');
      impostor_hosted |= argv0.find("ccmesh-mock-cli") != std::string::npos;
    }
  };
  ASSERT_TRUE(waitFor([&] {
    watchImpostor();
    auto status = alice->status();
    return status && status->refused_worker_ids >= 1;
  })) << cluster_->logs();
  const auto refused_at = Clock::now();
  // The broker hears from the real w1 again (the impostor's messages never count), and its
  // session runs under the real w1 process.
  ASSERT_TRUE(waitFor([&] {
    watchImpostor();
    auto status = alice->status();
    if (!status || status->workers.size() != 1 || status->workers[0].id != "w1") return false;
    const auto since = std::chrono::duration_cast<Millis>(Clock::now() - refused_at).count();
    if (static_cast<int64_t>(status->workers[0].heartbeat_age_ms) >= since) return false;
    auto info = alice->info("s1");
    if (!info || info->worker != "w1" || info->pid <= 0) return false;
    const auto children = childrenOf(real_w1);
    return std::find(children.begin(), children.end(), static_cast<pid_t>(info->pid)) !=
           children.end();
  })) << cluster_->logs();
  watchImpostor();
  EXPECT_FALSE(impostor_hosted) << "the impostor was given a session" << cluster_->logs();
  expectExitsRefused(impostor, "--id w2");
}

// Two ways a worker's key can be wrong for good: not listed at all (its handshake is
// refused), or listed under another name than its --id (its messages are refused).
TEST_F(CurveTest, AWorkerRefusedForItsKeyOrIdExitsAtOnce) {
  startBroker();  // lists w1 only
  Process& unlisted = cluster_->spawnWorkerAs(
      "unlisted", "w2",
      {"--curve-server-key", keyPath("broker") + ".pub", "--curve-secret", keyPath("w2") + ".key"});
  expectExitsRefused(unlisted, "--workers-allow file under the name w2");

  Process& misnamed = cluster_->spawnWorkerAs(
      "misnamed", "w9",
      {"--curve-server-key", keyPath("broker") + ".pub", "--curve-secret", keyPath("w1") + ".key"});
  expectExitsRefused(misnamed, "--id w1");
  // The right own key, but the broker's key is someone else's: every handshake is cut short.
  Process& wrong_server = cluster_->spawnWorkerAs(
      "wrong-server", "w1",
      {"--curve-server-key", keyPath("carol") + ".pub", "--curve-secret", keyPath("w1") + ".key"});
  expectExitsRefused(wrong_server, "--curve-server-key");
  auto status = clientAs("alice")->status();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->workers.empty());
  EXPECT_GE(status->refused_worker_ids, 1u);
  EXPECT_GE(status->refused_handshakes, 1u);
}

TEST_F(CurveTest, QueryRoleMayQueryAndReadButNotManage) {
  startBroker();
  joinWorker("w1", "w1");
  ASSERT_TRUE(clientAs("alice")->start("shared").ok());
  auto bob = clientAs("bob");
  auto answer = bob->query("shared", "hi");
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_TRUE(bob->info("shared").ok());
  EXPECT_TRUE(bob->list().ok());
  EXPECT_TRUE(bob->count().ok());
  EXPECT_TRUE(bob->status().ok());

  SessionOptions bypass;
  bypass.permission_mode = "bypassPermissions";
  for (auto refused : {bob->start("mine"), bob->start("wide", bypass), bob->terminate("shared"),
                       bob->restart("shared")}) {
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthorized) << refused.error().message;
    EXPECT_NE(refused.error().message.find("admin"), std::string::npos);
  }
  for (auto type : {MessageType::kPoolCreate, MessageType::kPoolResize, MessageType::kPoolDelete}) {
    auto refused = rawRequestAs("bob", type);
    ASSERT_TRUE(refused) << messageTypeName(type);
    EXPECT_EQ(refused->code, "unauthorized") << messageTypeName(type);
  }
  EXPECT_TRUE(clientAs("alice")->info("shared").ok());  // still there
  auto status = bob->status();
  ASSERT_TRUE(status.ok());
  EXPECT_GE(status->unauthorized, 7u);
}

TEST_F(CurveTest, SighupReloadRemovesAccessWithoutDroppingConnections) {
  startBroker();
  auto alice = clientAs("alice");
  auto bob = clientAs("bob");
  ASSERT_TRUE(alice->ping().ok());
  ASSERT_TRUE(bob->ping().ok());
  EXPECT_FALSE(clientAs("carol")->ping().ok());

  writeClients({{"alice", "admin"}, {"carol", "query"}});
  cluster_->broker().signal(SIGHUP);
  // Bob's open connection is refused on its next request once the new list is in force.
  ASSERT_TRUE(waitFor([&] {
    auto pong = bob->ping();
    return !pong.ok() && pong.error().code == ErrorCode::kUnauthorized;
  })) << cluster_->logs();
  EXPECT_TRUE(alice->ping().ok());  // same connection, still served
  EXPECT_TRUE(clientAs("carol")->ping().ok());
  auto began = Clock::now();
  auto fresh_bob = clientAs("bob")->ping();
  ASSERT_FALSE(fresh_bob.ok());
  expectRefusedFast(fresh_bob.error(), began);

  auto counted = alice->status();
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->reloads, 1u);
  EXPECT_EQ(counted->failed_reloads, 0u);

  // A broken list is not taken: the one in force stays.
  writeAtomically(clientsFile(), "not a key\n");
  cluster_->broker().signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] {
    auto status = alice->status();
    return status && status->failed_reloads == 1;
  })) << cluster_->logs();
  auto kept = alice->status();
  ASSERT_TRUE(kept.ok()) << "alice is still in the list in force";
  EXPECT_EQ(kept->reloads, 1u);
  EXPECT_TRUE(clientAs("carol")->ping().ok());
  auto still_out = clientAs("bob")->ping();
  ASSERT_FALSE(still_out.ok());
  EXPECT_EQ(still_out.error().code, ErrorCode::kUnauthorized);

  writeClients({{"alice", "admin"}, {"carol", "query"}, {"bob", "query"}});
  cluster_->broker().signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] {
    auto status = alice->status();
    return status && status->reloads == 2;
  })) << cluster_->logs();
  EXPECT_TRUE(clientAs("bob")->ping().ok());
  EXPECT_TRUE(alice->ping().ok());
}

TEST_F(CurveTest, RemovedWorkerKeyLosesItsWorker) {
  writeWorkers({"w1", "w2"});
  startBroker();
  joinWorker("w1", "w1");
  joinWorker("w2", "w2");
  writeWorkers({"w1"});
  cluster_->broker().signal(SIGHUP);
  auto admin = clientAs("alice");
  ASSERT_TRUE(waitFor([&] {
    auto status = admin->status();
    return status && status->workers.size() == 1 && status->workers[0].id == "w1";
  })) << cluster_->logs();
  // Its next handshake is refused: it stops rather than knocking forever.
  expectExitsRefused(cluster_->worker("w2"), "--workers-allow file under the name w2");
  EXPECT_TRUE(cluster_->worker("w1").running());
}

TEST_F(CurveTest, PerClientQuotasAnswerBusy) {
  startBroker({"--max-sessions-per-client", "2", "--max-pending-per-client", "2"});
  joinWorker("w1", "w1");
  auto alice = clientAs("alice");
  ASSERT_TRUE(alice->start("a").ok());
  ASSERT_TRUE(alice->start("b").ok());
  auto third = alice->start("c");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kBusy);
  EXPECT_NE(third.error().message.find("--max-sessions-per-client"), std::string::npos);
  ASSERT_TRUE(alice->terminate("a").ok());
  ASSERT_TRUE(alice->start("c").ok());  // room again

  // Two slow queries in flight fill the pending quota of the key, across connections.
  auto other_alice = clientAs("alice");
  const uint64_t first = alice->sendQuery("b", "/sleep 1500");
  const uint64_t second = other_alice->sendQuery("c", "/sleep 1500");
  ASSERT_TRUE(waitFor([&] {
    auto status = alice->status();
    return status && status->requests_in_flight == 2;
  }));
  auto refused = clientAs("alice")->query("b", "one more");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBusy);
  EXPECT_NE(refused.error().message.find("--max-pending-per-client"), std::string::npos);
  auto bob = clientAs("bob")->query("b", "another key");  // bob's quota is his own
  EXPECT_TRUE(bob.ok()) << bob.error().message;
  for (auto [client, id] : {std::pair{alice.get(), first}, std::pair{other_alice.get(), second}}) {
    auto reply = client->receive(kEventDeadline);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->id, id);
    EXPECT_EQ(reply->type, MessageType::kResult);
  }
}

TEST_F(CurveTest, PoolMembersCountAsTheCreatorsSessions) {
  startBroker({"--max-sessions-per-client", "3"});
  joinWorker("w1", "w1");
  auto alice = clientAs("alice");
  client::PoolCreateOptions two;
  two.size = 2;
  auto created = alice->poolCreate("p", two);
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto member = alice->info("p/1");
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(member->creator, "alice");
  ASSERT_TRUE(alice->start("a").ok());  // three now

  client::PoolCreateOptions one;
  one.size = 1;
  auto more = alice->poolCreate("q", one);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().code, ErrorCode::kBusy);
  EXPECT_NE(more.error().message.find("--max-sessions-per-client"), std::string::npos);
  auto grown = alice->poolResize("p", 3);
  ASSERT_FALSE(grown.ok());
  EXPECT_EQ(grown.error().code, ErrorCode::kBusy);

  ASSERT_TRUE(alice->terminate("a").ok());
  auto room = alice->poolResize("p", 3);
  ASSERT_TRUE(room.ok()) << room.error().message;
  auto newest = alice->info("p/2");
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->creator, "alice");
  auto full = alice->start("b");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kBusy);
}

TEST_F(CurveTest, ToolMakesKeysAndUsesThemFromFlagsOrEnvironment) {
  const std::string base = keys_dir_.path() + "/dave";
  auto made = runCommand(binaryPath("ccmesh"), {"keygen", base, "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto public_key = nlohmann::json::parse(made.out)["public_key"].get<std::string>();
  EXPECT_EQ(readCurveKeyFile(base + ".pub"), public_key);
  EXPECT_EQ(curvePublicKeyOf(readCurveKeyFile(base + ".key", true)), public_key);
  EXPECT_NE(runCommand(binaryPath("ccmesh"), {"keygen", base}).exit_code, 0);  // no overwrite

  keys_["dave"] = CurveKeyPair{public_key, readCurveKeyFile(base + ".key")};
  writeClients({{"alice", "admin"}, {"dave", "query"}});
  startBroker();
  auto pong = runCommand(binaryPath("ccmesh"),
                         {"--broker", cluster_->frontend(), "--curve-server-key",
                          keyPath("broker") + ".pub", "--curve-secret", base + ".key", "ping"});
  EXPECT_EQ(pong.exit_code, 0) << pong.err;
  auto from_environment =
      runCommand(binaryPath("ccmesh"), {"--broker", cluster_->frontend(), "--json", "start", "x"},
                 {{"CCMESH_CURVE_SERVER_KEY", keyPath("broker") + ".pub"},
                  {"CCMESH_CURVE_SECRET", base + ".key"}});
  EXPECT_EQ(from_environment.exit_code, 1) << from_environment.out;
  EXPECT_EQ(nlohmann::json::parse(from_environment.out)["error"]["code"], "unauthorized");
  auto keyless = runCommand(binaryPath("ccmesh"), {"--broker", cluster_->frontend(), "ping"});
  EXPECT_EQ(keyless.exit_code, 1);
  EXPECT_NE(keyless.err.find("unauthorized"), std::string::npos) << keyless.err;
}

}  // namespace
}  // namespace ccmesh::test
