// A broker and two workers on three "hosts" (network namespaces joined by veth pairs): a
// worker cut off from the broker, both ways or only in the direction worker -> broker,
// loses its names to the other worker and stops its own copies when its lease lapses; once
// the link is back it rejoins, empty and clean. Runs as root; skipped elsewhere.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "ccmesh/client/client.hpp"
#include "copy_sampler.hpp"
#include "harness/network_lab.hpp"
#include "harness/process.hpp"
#include "harness/wait_for.hpp"

namespace ccmesh::test {
namespace {

using namespace std::chrono_literals;

// The port of an endpoint tcp://ADDRESS:PORT.
std::string portOf(const std::string& endpoint) { return endpoint.substr(endpoint.rfind(':') + 1); }

class PartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = NetworkLab::unavailableReason()) {
      GTEST_SKIP() << "network namespaces unavailable: " << *reason;
    }
    lab_ = std::make_unique<NetworkLab>();
    broker_host_ = lab_->addHost("b");
    const auto to_broker = lab_->connect("", broker_host_);
    for (const char* id : {"w1", "w2"}) {
      hosts_[id] = lab_->addHost(id);
      links_[id] = lab_->connect(broker_host_, hosts_[id]);
    }
    startBroker(to_broker.address_b);
    for (const char* id : {"w1", "w2"}) startWorker(id);
    ASSERT_TRUE(waitFor([&] {
      auto status = client_->status();
      return status && status->workers.size() == 2;
    })) << logs();
  }

  // The broker in its host, reachable from this test at `address`, heartbeats 100 ms x 3.
  void startBroker(const std::string& address) {
    const std::string ready = dir_.path() + "/broker.ready";
    auto args = lab_->runIn(broker_host_);
    args.insert(args.end(), {binaryPath("ccmesh-broker"), "--frontend", "tcp://0.0.0.0:*",
                             "--backend", "tcp://0.0.0.0:*", "--insecure", "--heartbeat-ms", "100",
                             "--ready-file", ready, "--log-level", "debug"});
    broker_ = std::make_unique<Process>(NetworkLab::ipTool(), args, dir_.path() + "/broker.log");
    std::string frontend;
    ASSERT_TRUE(waitFor([&] {
      std::ifstream file(ready);
      std::string line;
      while (std::getline(file, line)) {
        if (line.rfind("frontend=", 0) == 0) frontend = line.substr(9);
        if (line.rfind("backend=", 0) == 0) backend_port_ = portOf(line);
      }
      return !frontend.empty() && !backend_port_.empty();
    })) << broker_->log();
    client::ClientOptions options;
    options.broker = "tcp://" + address + ":" + portOf(frontend);
    options.timeout = 5s;
    client_ = std::make_unique<client::Client>(options);
  }

  // A worker in its own host, connected over its link.
  void startWorker(const std::string& id) {
    auto args = lab_->runIn(hosts_[id]);
    args.insert(args.end(), {binaryPath("ccmesh-worker"), "--broker",
                             "tcp://" + links_[id].address_a + ":" + backend_port_, "--id", id,
                             "--log-level", "debug"});
    const std::string home = dir_.path() + "/home-" + id;
    std::filesystem::create_directories(home);
    workers_[id] = std::make_unique<Process>(NetworkLab::ipTool(), args,
                                             dir_.path() + "/worker-" + id + ".log",
                                             std::map<std::string, std::string>{{"HOME", home}});
  }

  // name -> (worker, pid).
  std::map<std::string, std::pair<std::string, int64_t>> placements() {
    std::map<std::string, std::pair<std::string, int64_t>> result;
    if (auto list = client_->list()) {
      for (const auto& info : *list) result[info.name] = {info.worker, info.pid};
    }
    return result;
  }

  std::string logs() const {
    std::string all = broker_ ? "--- broker ---\n" + broker_->log() : "";
    for (const auto& [id, process] : workers_) all += "--- " + id + " ---\n" + process->log();
    return all;
  }

  // Starts six sessions, cuts w1 off with `cut`, checks its names move and it fences itself,
  // restores the link with `restore` and checks it rejoins.
  template <class Cut, class Restore>
  void cutAndRestore(Cut cut, Restore restore) {
    for (int i = 0; i < 6; ++i) {
      const std::string name = "s" + std::to_string(i);
      SessionOptions options;  // tagged for the CopySampler
      options.env[CopySampler::kSessionTagVariable] = dir_.path() + "/" + name;
      ASSERT_TRUE(client_->start(name, options).ok());
    }
    ASSERT_TRUE(waitFor([&] {
      auto now = placements();
      if (now.size() != 6) return false;
      for (const auto& [name, where] : now) {
        if (where.second == 0) return false;
      }
      return true;
    })) << logs();
    std::set<std::string> moved;
    std::vector<pid_t> old_clis;
    for (const auto& [name, where] : placements()) {
      if (where.first != "w1") continue;
      moved.insert(name);
      old_clis.push_back(static_cast<pid_t>(where.second));
    }
    ASSERT_FALSE(moved.empty());
    CopySampler sampler(dir_.path());

    cut();
    ASSERT_TRUE(waitFor([&] {
      auto now = placements();
      for (const auto& name : moved) {
        if (now[name].first != "w2" || now[name].second == 0) return false;
      }
      return true;
    })) << "names move to the worker still connected"
        << logs();
    for (const auto& name : moved) {
      auto reply = client_->query(name, "moved");
      ASSERT_TRUE(reply.ok()) << name << ": " << reply.error().message;
      EXPECT_EQ(reply->worker, "w2");
    }
    EXPECT_TRUE(waitFor([&] {
      for (pid_t pid : old_clis) {
        if (runnable(pid)) return false;
      }
      return true;
    })) << "the cut-off worker stops its own copies"
        << logs();
    EXPECT_NE(workers_["w1"]->log().find("self-fencing"), std::string::npos);

    restore();
    ASSERT_TRUE(waitFor([&] {
      auto status = client_->status();
      return status && status->workers.size() == 2;
    })) << "it rejoins"
        << logs();
    for (const auto& [name, where] : placements()) {
      EXPECT_EQ(where.first, moved.count(name) ? "w2" : where.first) << name;
      EXPECT_TRUE(client_->query(name, "again").ok()) << name;
    }
    sampler.stop();
    EXPECT_GT(sampler.samples(), 0u);
    for (const auto& violation : sampler.violations()) ADD_FAILURE() << violation;
  }

  TempDir dir_;                                    // logs and homes
  std::unique_ptr<NetworkLab> lab_;                // the hosts; removed after the processes
  std::string broker_host_;                        // the broker's namespace
  std::map<std::string, std::string> hosts_;       // worker id -> namespace
  std::map<std::string, NetworkLab::Link> links_;  // worker id -> link (a: broker side)
  std::string backend_port_;                       // the broker's worker port
  std::unique_ptr<Process> broker_;                // the broker
  std::map<std::string, std::unique_ptr<Process>> workers_;  // worker id -> process
  std::unique_ptr<client::Client> client_;  // reaches the broker over the root link
};

TEST_F(PartitionTest, WorkerWhoseLinkGoesDownLosesItsNamesAndFencesItself) {
  const auto& host = hosts_["w1"];
  const auto& device = links_["w1"].device_b;
  cutAndRestore([&] { lab_->setLinkUp(host, device, false); },
                [&] { lab_->setLinkUp(host, device, true); });
}

TEST_F(PartitionTest, WorkerThatStillHearsTheBrokerButIsNotHeardFencesItself) {
  const auto& host = hosts_["w1"];
  cutAndRestore([&] { lab_->dropOutgoing(host, true); }, [&] { lab_->dropOutgoing(host, false); });
}

}  // namespace
}  // namespace ccmesh::test
