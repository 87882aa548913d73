// Under load, through broker restarts and worker deaths, every session's conversation is
// exactly the prompts its CLIs ran, or the session says where it was cut
// (docs/SESSIONS.md "What survives which failure"). The truth is read from the transcript
// files the CLIs wrote on the workers' disks.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

constexpr int kSessions = 30;
constexpr int kBrokerRestarts = 3;

std::string sessionName(int i) { return "s" + std::to_string(i); }

// The prompts of every CLI transcript file of conversation `session_id` under `home`, by
// the number each prompt carries ("<session>-<n>").
void collectPrompts(const std::string& home, const std::string& session_id,
                    std::map<uint64_t, std::string>& prompts) {
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(home, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->path().filename() != session_id + ".jsonl") continue;
    std::ifstream in(it->path());
    std::string line;
    while (std::getline(in, line)) {
      auto entry = nlohmann::json::parse(line, nullptr, false);
      if (entry.is_discarded() || entry.value("type", "") != "user") continue;
      const auto& content = entry["message"]["content"];
      if (!content.is_string()) continue;
      const std::string prompt = content.get<std::string>();
      const auto dash = prompt.rfind('-');
      if (dash == std::string::npos) continue;
      prompts[std::stoull(prompt.substr(dash + 1))] = prompt;
    }
  }
}

TEST(ConversationUnderLoad, EveryConversationIsWhatItsClisRanOrSaysWhereItWasCut) {
  TempDir data;
  // Heartbeats of 500 ms: a worker's lease (1.5 s) outlasts a broker restart under this load.
  // (A worker whose lease lapses during a restart forgets its sessions, and a new broker
  // learns names only from workers: docs/SESSIONS.md "broker restart and worker death".)
  Cluster cluster({"--data-dir", data.path(), "--heartbeat-ms", "500"});
  for (const char* worker : {"w1", "w2", "w3"}) cluster.startWorker(worker);
  auto admin = cluster.client();
  for (int i = 0; i < kSessions; ++i) {
    ASSERT_TRUE(admin->start(sessionName(i)).ok()) << cluster.logs();
  }

  // One client per session, each sending numbered prompts until told to stop.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kSessions; ++i) {
    clients.emplace_back([&, i] {
      auto client = cluster.client(Millis(2000));
      for (uint64_t n = 1; !stop; ++n) {
        if (client->query(sessionName(i), sessionName(i) + "-" + std::to_string(n)).ok()) {
          ++answered;
        }
      }
    });
  }
  for (int restart = 0; restart < kBrokerRestarts; ++restart) {
    const uint64_t before = answered;
    ASSERT_TRUE(waitFor([&] { return answered >= before + 3 * kSessions; })) << cluster.logs();
    cluster.restartBroker();
  }
  const uint64_t before = answered;
  EXPECT_TRUE(waitFor([&] { return answered >= before + 3 * kSessions; })) << cluster.logs();
  stop = true;
  for (auto& client : clients) client.join();

  admin = cluster.client();
  std::string unsettled;  // the first session that was not settled yet, for failures
  auto settled = [&](const std::set<std::string>& gone) {
    return waitFor([&] {
      auto list = admin->list();
      if (!list || list->size() != kSessions) return false;
      for (const auto& info : *list) {
        unsettled = info.name + " on " + info.worker + ": " + info.state + ", queue " +
                    std::to_string(info.queue_depth) + ", transcript " +
                    std::to_string(info.transcript_entries) +
                    (info.transcript_complete ? " whole" : " not whole") + ", cut '" + info.cut +
                    "'";
        if (gone.count(info.worker) || info.state != "idle" || info.queue_depth != 0) {
          return false;
        }
        if (!info.transcript_complete && info.cut.empty()) return false;
      }
      return true;
    });
  };
  ASSERT_TRUE(settled({})) << unsettled << "\n" << cluster.logs();
  // Kill each worker in turn; a fresh one takes the last names.
  cluster.startWorker("w4");
  std::set<std::string> gone;
  for (const char* worker : {"w1", "w2", "w3"}) {
    cluster.worker(worker).signal(SIGKILL);
    gone.insert(worker);
    ASSERT_TRUE(settled(gone)) << "after killing " << worker << ": " << unsettled << "\n"
                               << cluster.logs();
  }

  int cut = 0;
  for (int i = 0; i < kSessions; ++i) {
    const std::string name = sessionName(i);
    auto info = admin->info(name);
    ASSERT_TRUE(info.ok());
    std::map<uint64_t, std::string> ran;
    for (const char* worker : {"w1", "w2", "w3", "w4"}) {
      collectPrompts(cluster.homeOf(worker), info->session_id, ran);
    }
    auto history = admin->query(name, "/history");
    if (!info->cut.empty()) {
      ++cut;
      ASSERT_FALSE(history.ok());
      EXPECT_EQ(history.error().code, ErrorCode::kConversationIncomplete);
      continue;
    }
    ASSERT_TRUE(history.ok()) << name << ": " << history.error().message;
    std::string expected;
    for (const auto& [n, prompt] : ran) expected += (expected.empty() ? "" : " | ") + prompt;
    EXPECT_EQ(history->text, expected) << name << " on " << info->worker;
  }
  RecordProperty("answered", static_cast<int>(answered.load()));
  RecordProperty("cut", cut);
  EXPECT_EQ(cut, 0) << "with --data-dir and the workers alive through the broker restarts, "
                       "nothing should have been cut";
}

}  // namespace
}  // namespace ccmesh::test
