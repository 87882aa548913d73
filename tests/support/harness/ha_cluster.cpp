#include "harness/ha_cluster.hpp"

#include <filesystem>
#include <stdexcept>

#include "ccmesh/common/requests.hpp"
#include "ccmesh/common/socket_io.hpp"
#include "harness/wait_for.hpp"

namespace ccmesh::test {
namespace {

// The end of a log: enough to see what went wrong.
std::string tail(const std::string& log) {
  constexpr std::size_t kKeep = 12000;
  return log.size() <= kKeep ? log : "[...]\n" + log.substr(log.size() - kKeep);
}

std::string joined(const std::vector<std::string>& items) {
  std::string all;
  for (const auto& item : items) all += (all.empty() ? "" : ",") + item;
  return all;
}

}  // namespace

std::optional<Envelope> askStatusAlone(const std::string& frontend, Millis wait) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  applyCommonOptions(socket);
  socket.connect(frontend);
  if (sendMessage(socket, {}, MessageType::kStatus, encodeBody(msg::Plain{7})) !=
      SendStatus::kSent) {
    return std::nullopt;
  }
  std::vector<zmq::message_t> frames;
  bool oversized = false;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::ceil<Millis>(deadline - std::chrono::steady_clock::now()));
    if (!receiveMessage(socket, frames, oversized)) continue;
    auto envelope = decodeFrames(frames);
    if (envelope) return std::move(*envelope);
  }
  return std::nullopt;
}

HaCluster::HaCluster(EtcdPlacement etcd, HaTiming timing)
    : timing_(std::move(timing)),
      etcd_(std::make_unique<EtcdServer>(dir_.path(), std::move(etcd))) {}

HaCluster::~HaCluster() {
  // Workers first: they would otherwise look for a broker while it stops.
  for (auto& [id, process] : workers_) process->stop(Millis(5000));
  for (auto& [name, process] : brokers_) process->stop(Millis(5000));
}

void HaCluster::startBroker(const std::string& name, const std::string& etcd_url) {
  const int run = ++runs_[name];
  if (!etcd_url.empty() || etcd_urls_.count(name) == 0) {
    etcd_urls_[name] = etcd_url.empty() ? etcd_->url() : etcd_url;
  }
  const std::string stem = dir() + "/broker-" + name + "-" + std::to_string(run);
  const bool again = endpoints_.count(name) != 0;
  const std::string frontend = again ? endpoints_[name].frontend : "tcp://127.0.0.1:*";
  const std::string backend = again ? endpoints_[name].backend : "tcp://127.0.0.1:*";
  std::vector<std::string> args{"--frontend",     frontend,
                                "--backend",      backend,
                                "--http",         "127.0.0.1:0",
                                "--ready-file",   stem + ".ready",
                                "--log-level",    timing_.log_level,
                                "--heartbeat-ms", std::to_string(timing_.heartbeat_ms),
                                "--liveness",     std::to_string(timing_.liveness),
                                "--ha-etcd",      etcd_urls_[name],
                                "--ha-name",      name,
                                "--ha-ttl-ms",    std::to_string(timing_.ttl_ms)};
  brokers_[name] = std::make_unique<Process>(binaryPath("ccmesh-broker"), args, stem + ".log");
  endpoints_[name] = waitForBrokerEndpoints(*brokers_[name], stem + ".ready");
  if (!again) order_.push_back(name);
}

std::string HaCluster::frontends() const {
  std::vector<std::string> all;
  for (const auto& name : order_) all.push_back(endpoints_.at(name).frontend);
  return joined(all);
}

std::string HaCluster::backends() const {
  std::vector<std::string> all;
  for (const auto& name : order_) all.push_back(endpoints_.at(name).backend);
  return joined(all);
}

Process& HaCluster::startWorker(const std::string& id, const std::vector<std::string>& extra) {
  const std::string home = dir() + "/home-" + id;
  std::filesystem::create_directories(home);
  std::vector<std::string> args{"--broker", backends(),    "--id",
                                id,         "--log-level", timing_.log_level};
  args.insert(args.end(), extra.begin(), extra.end());
  std::map<std::string, std::string> env{{"HOME", home}, {"CLAUDE_CONFIG_DIR", home + "/.claude"}};
  workers_[id] = std::make_unique<Process>(binaryPath("ccmesh-worker"), args,
                                           dir() + "/worker-" + id + ".log", env);
  return *workers_[id];
}

std::unique_ptr<client::Client> HaCluster::client(Millis timeout) const {
  client::ClientOptions options;
  options.broker = frontends();
  options.timeout = timeout;
  return std::make_unique<client::Client>(options);
}

std::unique_ptr<client::Client> HaCluster::clientOf(const std::string& name, Millis timeout) const {
  client::ClientOptions options;
  options.broker = endpoints_.at(name).frontend;
  options.timeout = timeout;
  return std::make_unique<client::Client>(options);
}

std::optional<std::string> HaCluster::leader() const {
  for (const auto& name : order_) {
    if (!brokers_.at(name)->running()) continue;
    // A standby would send this client on to the leader: ask each broker alone.
    auto probe = clientOf(name, Millis(1000));
    auto status = probe->status();
    if (status && status->ha.role == "leader" && status->ha.name == name) return name;
  }
  return std::nullopt;
}

std::string HaCluster::waitForLeader(std::size_t workers) const {
  std::string found;
  const bool ready = waitFor([&] {
    auto name = leader();
    if (!name) return false;
    auto status = clientOf(*name, Millis(1000))->status();
    if (!status || status->workers.size() < workers) return false;
    found = *name;
    return true;
  });
  if (!ready)
    throw std::runtime_error("no leader with " + std::to_string(workers) + " worker(s); logs:\n" +
                             logs());
  return found;
}

std::string HaCluster::logs() const {
  std::string all;
  for (const auto& [name, process] : brokers_) {
    all += "--- broker " + name + " ---\n" + tail(process->log());
  }
  for (const auto& [id, process] : workers_) {
    all += "--- worker " + id + " ---\n" + tail(process->log());
  }
  return all;
}

}  // namespace ccmesh::test
