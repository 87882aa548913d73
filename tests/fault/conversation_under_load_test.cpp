// Under load, through broker restarts and worker deaths, every session's conversation is
// exactly the prompts its CLIs ran, or the session says where it was cut
// (docs/SESSIONS.md "What survives which failure"). The truth is read from the transcript
// files the CLIs wrote on the workers' disks.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "harness/cluster.hpp"

namespace ccmesh::test {
namespace {

constexpr int kSessions = 30;
constexpr int kBrokerRestarts = 3;

std::string sessionName(int i) { return "s" + std::to_string(i); }

// What the CLIs under `home` ran: each numbered prompt ("<session>-<n>") of every
// transcript file, by session name and number, with the conversation (file) it is in. A
// session whose conversation was silently replaced has prompts in a conversation it no
// longer names.
struct Ran {
  std::map<uint64_t, std::string> prompts;  // by number
  std::set<std::string> conversations;      // the transcript files they are in
};
void collectPrompts(const std::string& home, std::map<std::string, Ran>& ran) {
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(home, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->path().extension() != ".jsonl") continue;
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
      Ran& of = ran[prompt.substr(0, dash)];
      of.prompts[std::stoull(prompt.substr(dash + 1))] = prompt;
      of.conversations.insert(it->path().stem().string());
    }
  }
}

// The lines of `logs` about session `name` (and the headers naming each process), for
// failure messages.
std::string linesAbout(const std::string& logs, const std::string& name) {
  const std::string tag = "[session " + name + "]";
  std::istringstream in(logs);
  std::string line, about;
  while (std::getline(in, line)) {
    if (line.rfind("--- ", 0) == 0 || line.find(tag) != std::string::npos) about += line + "\n";
  }
  return about;
}

// The mock CLI's answer to /history: the prompts it ran, or "(none)".
std::string historyText(const std::map<uint64_t, std::string>& prompts) {
  std::string text;
  for (const auto& [n, prompt] : prompts) text += (text.empty() ? "" : " | ") + prompt;
  return text.empty() ? "(none)" : text;
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
  std::array<std::atomic<uint64_t>, kSessions> answered_by{};  // per session, for failures
  std::vector<std::thread> clients;
  for (int i = 0; i < kSessions; ++i) {
    clients.emplace_back([&, i] {
      auto client = cluster.client(Millis(2000));
      for (uint64_t n = 1; !stop; ++n) {
        if (client->query(sessionName(i), sessionName(i) + "-" + std::to_string(n)).ok()) {
          ++answered;
          ++answered_by[i];
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

  // The truth: every prompt each session's CLIs ran, whatever conversation it went to.
  std::map<std::string, Ran> ran;
  for (const char* worker : {"w1", "w2", "w3", "w4"}) collectPrompts(cluster.homeOf(worker), ran);
  int cut = 0;
  for (int i = 0; i < kSessions; ++i) {
    const std::string name = sessionName(i);
    auto info = admin->info(name);
    ASSERT_TRUE(info.ok());
    const Ran& of = ran[name];
    const std::string context =
        name + " on " + info->worker + ", conversation " + info->session_id + ", " +
        std::to_string(answered_by[i]) + " answered, " + std::to_string(of.prompts.size()) +
        " prompt(s) ran in " + std::to_string(of.conversations.size()) + " conversation(s)";
    const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
    const int failures_before = result->total_part_count();
    auto history = admin->query(name, "/history");
    if (!info->cut.empty()) {
      ++cut;
      EXPECT_FALSE(history.ok()) << context;
      if (!history.ok()) {
        EXPECT_EQ(history.error().code, ErrorCode::kConversationIncomplete) << context;
      }
    } else if (!history.ok()) {
      ADD_FAILURE() << context << ": " << history.error().message;
    } else {
      EXPECT_EQ(history->text, historyText(of.prompts)) << context;
      // Every prompt ran in the conversation the session still names (a session that ran
      // none may have a conversation no CLI wrote yet).
      for (const auto& conversation : of.conversations) {
        EXPECT_EQ(conversation, info->session_id) << context;
      }
    }
    if (result->total_part_count() > failures_before || !info->cut.empty()) {
      ADD_FAILURE() << "what the logs say of " << name << ":\n" << linesAbout(cluster.logs(), name);
    }
  }
  RecordProperty("answered", static_cast<int>(answered.load()));
  RecordProperty("cut", cut);
  EXPECT_EQ(cut, 0) << "with --data-dir and the workers alive through the broker restarts, "
                       "nothing should have been cut";
}

}  // namespace
}  // namespace ccmesh::test
