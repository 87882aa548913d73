#include "harness/etcd_server.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "harness/network_lab.hpp"
#include "harness/wait_for.hpp"

namespace ccmesh::test {

namespace {

// Where `etcd` is: the first match on PATH.
std::string etcdProgram() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t colon = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, colon - start) + "/etcd";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  throw std::runtime_error("etcd is not installed (scripts/install-deps.sh installs etcd-server)");
}

}  // namespace

int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

EtcdServer::EtcdServer(const std::string& dir, EtcdPlacement placement)
    : dir_(dir + "/etcd"), placement_(std::move(placement)) {
  std::filesystem::create_directories(dir_);
  // The kernel's free picks; a port taken in between makes etcd exit, and start() tries
  // again with others.
  start();
}

std::string EtcdServer::urlAt(const std::string& address) const {
  return "http://" + address + ":" + std::to_string(client_port_);
}

EtcdServer::~EtcdServer() {
  if (process_) process_->stop(Millis(3000));
}

void EtcdServer::kill() {
  if (!process_ || !process_->running()) return;
  process_->signal(SIGKILL);
  process_->waitExit(kEventDeadline);
}

void EtcdServer::start() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (client_port_ == 0 || attempt > 0) {
      client_port_ = freeLoopbackPort();
      peer_port_ = freeLoopbackPort();
    }
    url_ = urlAt(placement_.addresses.front());
    std::string listen;
    for (const auto& address : placement_.addresses) {
      listen += (listen.empty() ? "" : ",") + urlAt(address);
    }
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    std::vector<std::string> args{"--name",
                                  "test",
                                  "--data-dir",
                                  dir_ + "/data",
                                  "--listen-client-urls",
                                  listen,
                                  "--advertise-client-urls",
                                  url_,
                                  "--listen-peer-urls",
                                  peer,
                                  "--initial-advertise-peer-urls",
                                  peer,
                                  "--initial-cluster",
                                  "test=" + peer,
                                  "--heartbeat-interval",
                                  "10",
                                  "--election-timeout",
                                  "100"};
    std::string program = etcdProgram();
    if (!placement_.run_in.empty()) {
      // ip netns exec HOST etcd ...: `ip` becomes etcd, so the pid is etcd's.
      args.insert(args.begin(), program);
      args.insert(args.begin(), placement_.run_in.begin(), placement_.run_in.end());
      program = NetworkLab::ipTool();
    }
    process_ = std::make_unique<Process>(program, args,
                                         dir_ + "/etcd-" + std::to_string(++runs_) + ".log");
    const bool up = waitFor([&] {
      if (!process_->running()) return true;
      httplib::Client client(url_);
      client.set_connection_timeout(0, 200000);
      auto answer = client.Get("/health");
      return answer && answer->status == 200 && answer->body.find("\"true\"") != std::string::npos;
    });
    if (up && process_->running()) return;
    if (!process_->running() && runs_ > 1 && attempt == 0) {
      // A restart whose ports were taken meanwhile: the brokers know the old URL.
      throw std::runtime_error("etcd did not come back on " + url_ + ":\n" + process_->log());
    }
    process_->stop(Millis(1000));
  }
  throw std::runtime_error("etcd did not start (is etcd-server installed?):\n" +
                           (process_ ? process_->log() : std::string()));
}

}  // namespace ccmesh::test
