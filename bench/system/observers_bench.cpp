// ccmesh-bench-observers: what watching the broker costs it. The same closed-loop query
// load runs, in turns, against brokers of the same build observed more and more: nobody
// (`--http ''`), metrics scraped every second, plus a `watch` client, plus an /events
// stream. The figures are each broker's CPU per query beside the unobserved one's. Prints
// one JSON object.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "closed_loop.hpp"
#include "cpu_ledger.hpp"
#include "figure_report.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;

namespace {

constexpr const char* kUsage =
    "Usage: ccmesh-bench-observers [--smoke] [--queries N]\n"
    "Broker CPU per query with metrics, live events and a watcher attached, beside the same\n"
    "broker with --http '' and nobody watching; prints JSON. N queries per block.";

constexpr std::size_t kSessions = 32;  // one query in flight on each

struct Sizes {
  std::size_t blocks = 9;      // the brokers take turns this many times
  std::size_t queries = 3000;  // per block and broker
  std::size_t warm_up = 500;   // per broker, before anything is measured
};

// Who watches a broker.
struct Observed {
  std::size_t watchers = 0;       // `watch` clients
  std::size_t event_streams = 0;  // /events streams
  Millis scrape_every{0};         // a Prometheus scraping /metrics this often (0: none)
};

std::string sessionName(std::size_t i) { return "ob-" + std::to_string(i); }

// One broker, its worker and sessions, and a client driving them; the CPU its broker uses.
struct Side {
  explicit Side(std::vector<std::string> broker_args) : cluster(std::move(broker_args)) {
    cluster.startWorker("w", {"--capacity", std::to_string(kSessions * 2)});
    std::vector<std::string> names;
    for (std::size_t i = 0; i < kSessions; ++i) names.push_back(sessionName(i));
    cluster.startSessions(names);
    client = cluster.client();
    ledger.add("broker", {cluster.broker().pid()});
  }

  void run(std::size_t queries, bool measured) {
    const double before = ledger.used("broker");
    if (measured) ledger.start();
    closedLoopThroughput(*client, sessionName, kSessions, queries);
    if (!measured) return;
    ledger.stop();
    block_micros.push_back((ledger.used("broker") - before) * 1e6 / static_cast<double>(queries));
  }

  // Microseconds of broker CPU per query: the median of the measured blocks (a block that
  // met a busy moment of the machine moves it less than it moves the mean).
  double brokerMicros() const {
    std::vector<double> sorted = block_micros;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    return n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  BenchCluster cluster;
  std::unique_ptr<client::Client> client;
  CpuLedger ledger;
  std::vector<double> block_micros;  // broker CPU per query, block by block
};

// What watches the observed broker: `watch` clients, /events streams and a scraper, each
// on its own thread until stop().
class Observers {
 public:
  Observers(BenchCluster& cluster, const Observed& sizes) {
    for (std::size_t i = 0; i < sizes.watchers; ++i) {
      threads_.emplace_back([this, &cluster] {
        auto client = cluster.client();
        client->watch(
            "", "", [this](const msg::FeedEvent&) { ++watched_; }, [this] { return stop_.load(); });
      });
    }
    for (std::size_t i = 0; i < sizes.event_streams; ++i) {
      threads_.emplace_back([this, &cluster] {
        httplib::Client http(cluster.http());
        http.set_read_timeout(std::chrono::seconds(2));
        while (!stop_) {
          http.Get("/events", [this](const char*, std::size_t length) {
            streamed_ += length;
            return !stop_.load();
          });
        }
      });
    }
    if (sizes.scrape_every.count() == 0) return;
    threads_.emplace_back([this, &cluster, every = sizes.scrape_every] {
      httplib::Client http(cluster.http());
      while (!stop_) {
        if (auto reply = http.Get("/metrics"); reply && reply->status == 200) ++scrapes_;
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, every, [this] { return stop_.load(); });
      }
    });
  }

  ~Observers() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  std::string summary() const {
    return std::to_string(watched_.load()) + " events watched, " +
           std::to_string(streamed_.load()) + " bytes of /events read, " +
           std::to_string(scrapes_.load()) + " scrapes";
  }

 private:
  std::atomic<bool> stop_{false};      // set by stop()
  std::atomic<uint64_t> watched_{0};   // events the watch clients got
  std::atomic<uint64_t> streamed_{0};  // bytes the /events streams read
  std::atomic<uint64_t> scrapes_{0};   // /metrics answered
  std::mutex mutex_;                   // guards the scraper's wait
  std::condition_variable wake_;       // ends the scraper's wait at stop()
  std::vector<std::thread> threads_;   // one per observer
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = BenchArguments::parse(argc, argv, kUsage, {"--queries"});
    if (args.help) return 0;
    Sizes sizes;
    if (args.smoke) {
      sizes.blocks = 2;
      sizes.queries = 200;
      sizes.warm_up = 50;
    }
    sizes.queries = args.number("--queries", sizes.queries);
    FigureReport report("ccmesh-bench-observers", args.smoke);

    // The same broker, observed more and more.
    struct Setting {
      std::string name;   // what observes it
      bool http;          // its HTTP endpoint runs (metrics are kept)
      Observed observed;  // who watches
      Goal goal;          // how its figure is judged
    };
    const std::vector<Setting> settings{
        {"none (--http '')", false, {0, 0, Millis(0)}, Goal::kNone},
        {"metrics, /metrics scraped every second", true, {0, 0, Millis(1000)}, Goal::kRatioAtMost},
        // The observers the goal is about: metrics and the event observers, one watcher.
        {"metrics and scrapes, one watch client", true, {1, 0, Millis(1000)}, Goal::kRatioAtMost},
        // Besides: the status page's feed, JSON rendered for every event.
        {"metrics and scrapes, one watch client, one /events stream",
         true,
         {1, 1, Millis(1000)},
         Goal::kNone},
    };
    std::vector<std::unique_ptr<Side>> sides;
    std::vector<std::unique_ptr<Observers>> observers;
    for (const auto& setting : settings) {
      sides.push_back(std::make_unique<Side>(
          std::vector<std::string>{"--http", setting.http ? "127.0.0.1:0" : ""}));
      observers.push_back(std::make_unique<Observers>(sides.back()->cluster, setting.observed));
      sides.back()->run(sizes.warm_up, false);
    }
    for (std::size_t block = 0; block < sizes.blocks; ++block) {
      std::cerr << "block " << block + 1 << " of " << sizes.blocks << "\n";
      for (auto& side : sides) side->run(sizes.queries, true);
    }
    for (auto& watching : observers) watching->stop();
    const std::size_t total = sizes.blocks * sizes.queries;
    const double bare = sides[0]->brokerMicros();
    for (std::size_t i = 1; i < settings.size(); ++i) {
      const bool judged = settings[i].goal != Goal::kNone;
      report.add({"broker CPU per query, observed by: " + settings[i].name, "µs",
                  sides[i]->brokerMicros(), bare,
                  "the same broker with --http '' and nobody watching", settings[i].goal,
                  judged ? 1.05 : 0, judged ? "≤ 1.05× limit" : "—",
                  std::to_string(total) + " queries each, " + std::to_string(kSessions) +
                      " in flight, in alternating blocks (median of " +
                      std::to_string(sizes.blocks) + "); " + observers[i]->summary()});
    }
    report.print();
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-observers: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
