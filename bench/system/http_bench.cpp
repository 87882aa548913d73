// ccmesh-bench-http: the clients of every language side by side, in one run against one
// broker. Round trip of a short query through the C++ client, through HTTP (JSON, one
// keep-alive connection) and through the Python package (bench/python/roundtrip.py); then
// many concurrent streamed answers through the HTTP API (server-sent events) beside the
// same streams through the C++ client over ZeroMQ: deltas/s and the broker's CPU per delta.
// Prints one JSON object.
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_arguments.hpp"
#include "bench_cluster.hpp"
#include "cpu_ledger.hpp"
#include "figure_report.hpp"
#include "latency_samples.hpp"

using namespace ccmesh;
using namespace ccmesh::bench;

namespace {

constexpr const char* kUsage =
    "Usage: ccmesh-bench-http [--smoke] [--queries N] [--streams S]\n"
    "Round trip p50 through the C++ client, HTTP and the Python package; S concurrent\n"
    "server-sent-event streams through the HTTP API beside the same over ZeroMQ. Prints JSON.";

constexpr const char* kRoundTripSession = "rt";
constexpr const char* kStreamPrompt = "/deltas 100 20";  // a turn's shape: 100 deltas of 20 B
constexpr std::size_t kDeltasPerAnswer = 100;
constexpr std::size_t kDeltaBytes = 20;

struct Sizes {
  std::size_t queries = 400;  // sequential round trips per client
  std::size_t streams = 100;  // concurrent streams
  std::size_t answers = 20;   // streamed answers per stream
};

std::string streamSession(std::size_t i) { return "sse-" + std::to_string(i); }

LatencySamples cppRoundTrips(BenchCluster& cluster, std::size_t queries) {
  auto client = cluster.client();
  LatencySamples samples;
  (void)client->query(kRoundTripSession, "warm up");
  for (std::size_t i = 0; i < queries; ++i) {
    const auto began = std::chrono::steady_clock::now();
    auto reply = client->query(kRoundTripSession, "q" + std::to_string(i));
    if (!reply) throw std::runtime_error("C++ query failed: " + reply.error().message);
    samples.add(std::chrono::steady_clock::now() - began);
  }
  return samples;
}

LatencySamples httpRoundTrips(BenchCluster& cluster, std::size_t queries) {
  httplib::Client http(cluster.http());
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);  // as curl and browsers do
  http.set_read_timeout(std::chrono::seconds(30));
  const std::string path = std::string("/api/sessions/") + kRoundTripSession + "/query";
  LatencySamples samples;
  auto ask = [&](const std::string& prompt) {
    auto reply = http.Post(path, nlohmann::json{{"prompt", prompt}}.dump(), "application/json");
    if (!reply || reply->status != 200) throw std::runtime_error("HTTP query failed");
  };
  ask("warm up");
  for (std::size_t i = 0; i < queries; ++i) {
    const auto began = std::chrono::steady_clock::now();
    ask("q" + std::to_string(i));
    samples.add(std::chrono::steady_clock::now() - began);
  }
  return samples;
}

// The Python package's p50 in µs, from bench/python/roundtrip.py run against the cluster.
double pythonRoundTripP50(BenchCluster& cluster, std::size_t queries) {
  const std::string command = std::string(CCMESH_PYTHON3) + " " + CCMESH_SOURCE_DIR +
                              "/bench/python/roundtrip.py --json --broker '" + cluster.frontend() +
                              "' --session " + kRoundTripSession + " --queries " +
                              std::to_string(queries);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe.get()) != nullptr) out += buffer;
  const auto figures = nlohmann::json::parse(out, nullptr, false);
  if (figures.is_discarded() || !figures.contains("p50_us")) {
    throw std::runtime_error("roundtrip.py printed no figures: " + out);
  }
  return figures["p50_us"].get<double>();
}

// Streams `answers` answers on each of `streams` sessions at once, one thread a stream;
// returns the deltas received, counted as the text they carried over kDeltaBytes (a worker
// merges deltas that queue up, so events may carry several).
uint64_t httpStreams(BenchCluster& cluster, std::size_t streams, std::size_t answers) {
  std::atomic<uint64_t> deltas{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      httplib::Client http(cluster.http());
      http.set_keep_alive(true);
      http.set_tcp_nodelay(true);
      http.set_read_timeout(std::chrono::seconds(60));
      const httplib::Headers headers{{"Accept", "text/event-stream"}};
      const std::string path = "/api/sessions/" + streamSession(s) + "/query";
      const std::string body = nlohmann::json{{"prompt", kStreamPrompt}}.dump();
      for (std::size_t a = 0; a < answers && !failed; ++a) {
        std::string pending;
        bool done = false;
        httplib::Request request;
        request.method = "POST";
        request.path = path;
        request.headers = headers;
        request.body = body;
        request.set_header("Content-Type", "application/json");
        request.content_receiver = [&](const char* data, std::size_t length, uint64_t, uint64_t) {
          pending.append(data, length);
          for (std::size_t end; (end = pending.find("\n\n")) != std::string::npos;) {
            const std::string_view event(pending.data(), end);
            if (event.rfind("event: delta", 0) == 0) {
              const auto data = event.find("\ndata: ");
              const auto text = nlohmann::json::parse(
                  data == std::string_view::npos ? std::string_view("{}") : event.substr(data + 7),
                  nullptr, false);
              if (text.is_object()) deltas += text.value("text", "").size();
            }
            if (event.rfind("event: result", 0) == 0) done = true;
            pending.erase(0, end + 2);
          }
          return true;
        };
        auto reply = http.send(request);
        if (!reply || reply->status != 200 || !done) {
          if (!failed.exchange(true)) {
            std::cerr << "stream " << s << " answer " << a << ": "
                      << (reply ? "status " + std::to_string(reply->status) + " " + pending +
                                      reply->body
                                : "error " + httplib::to_string(reply.error()))
                      << "\n";
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (failed) throw std::runtime_error("an HTTP stream failed");
  return deltas / kDeltaBytes;
}

// The same streams through the C++ client over ZeroMQ.
uint64_t zmqStreams(BenchCluster& cluster, std::size_t streams, std::size_t answers) {
  std::atomic<uint64_t> deltas{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      auto client = cluster.client(Millis(60000));
      client::QueryOptions options;
      options.stream = true;
      for (std::size_t a = 0; a < answers && !failed; ++a) {
        auto reply =
            client->query(streamSession(s), kStreamPrompt, options, [&](const msg::Event& event) {
              if (event.kind == "delta") deltas += event.text.size();
            });
        if (!reply) failed = true;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (failed) throw std::runtime_error("a ZeroMQ stream failed");
  return deltas / kDeltaBytes;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto args = BenchArguments::parse(argc, argv, kUsage, {"--queries", "--streams"});
    if (args.help) return 0;
    Sizes sizes;
    if (args.smoke) {
      sizes.queries = 20;
      sizes.streams = 4;
      sizes.answers = 2;
    }
    sizes.queries = args.number("--queries", sizes.queries);
    sizes.streams = args.number("--streams", sizes.streams);
    FigureReport report("ccmesh-bench-http", args.smoke);

    BenchCluster cluster({"--http", "127.0.0.1:0", "--http-max-queries",
                          std::to_string(std::max<std::size_t>(sizes.streams, 128))});
    cluster.startWorker("w", {"--capacity", std::to_string(sizes.streams + 8)});
    std::vector<std::string> names{kRoundTripSession};
    for (std::size_t s = 0; s < sizes.streams; ++s) names.push_back(streamSession(s));
    cluster.startSessions(names);

    std::cerr << "round trips: C++, HTTP, Python\n";
    const LatencySamples cpp = cppRoundTrips(cluster, sizes.queries);
    const LatencySamples http = httpRoundTrips(cluster, sizes.queries);
    const double python = pythonRoundTripP50(cluster, sizes.queries);
    const std::string counted = std::to_string(sizes.queries) + " sequential queries each";
    report.add({"round trip p50 of a short query, HTTP (JSON, keep-alive)", "µs",
                http.percentileMicros(50), cpp.percentileMicros(50), "the C++ client", Goal::kNone,
                0, "—", counted});
    report.add({"round trip p50 of a short query, Python package", "µs", python,
                cpp.percentileMicros(50), "the C++ client", Goal::kNone, 0, "—", counted});

    CpuLedger ledger;
    ledger.add("broker", {cluster.broker().pid()});
    const auto measure = [&](auto run) {
      ledger.reset();
      ledger.start();
      const auto began = std::chrono::steady_clock::now();
      const uint64_t deltas = run();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      ledger.stop();
      const uint64_t expected = sizes.streams * sizes.answers * kDeltasPerAnswer;
      if (deltas != expected) {
        throw std::runtime_error("got " + std::to_string(deltas) + " deltas, expected " +
                                 std::to_string(expected));
      }
      return std::pair{deltas / seconds, ledger.used("broker") * 1e6 / deltas};
    };
    std::cerr << sizes.streams << " concurrent streams over ZeroMQ\n";
    const auto [zmq_rate, zmq_cpu] =
        measure([&] { return zmqStreams(cluster, sizes.streams, sizes.answers); });
    std::cerr << sizes.streams << " concurrent streams over HTTP\n";
    const auto [http_rate, http_cpu] =
        measure([&] { return httpStreams(cluster, sizes.streams, sizes.answers); });
    const std::string shape = std::to_string(sizes.streams) + " streams at once, " +
                              std::to_string(sizes.answers) + " answers of " +
                              std::to_string(kDeltasPerAnswer) + " deltas of 20 B each";
    report.add({"deltas/s, concurrent server-sent-event streams through the HTTP API", "deltas/s",
                http_rate, zmq_rate, "the same streams through the C++ client", Goal::kNone, 0, "—",
                shape});
    report.add({"broker CPU per delta, HTTP streams", "µs", http_cpu, zmq_cpu,
                "the same streams through the C++ client", Goal::kNone, 0, "—",
                shape + "; the broker's process includes the HTTP listener"});
    report.print();
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-bench-http: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
