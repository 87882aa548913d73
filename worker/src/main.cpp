// ccmesh-worker: hosts ccmesh sessions, one supervised CLI process each.
#include <exception>
#include <iostream>
#include <memory>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/logging.hpp"
#include "ccmesh/common/ready_file.hpp"
#include "ccmesh/worker/worker.hpp"
#include "ccmesh/worker/worker_config.hpp"
#include "group_keeper.hpp"
#include "monitor/worker_monitor.hpp"

int main(int argc, char** argv) {
  try {
    auto config = ccmesh::worker::loadWorkerConfig(argc, argv);
    if (!config) return 0;
    ccmesh::setupLogging(config->log_level, ccmesh::parseLogFormat(config->log_format),
                         {{"worker", config->id}});
    // Before any thread exists: the keeper is a plain fork of this small process.
    ccmesh::worker::GroupKeeper::start();
    ccmesh::SteadyClock clock;
    const ccmesh::monitoring::HttpOptions http{config->http, config->http_token_file,
                                               config->insecure};
    const std::string ready_file = config->ready_file;
    ccmesh::worker::Worker worker(std::move(*config), clock);
    std::unique_ptr<ccmesh::worker::WorkerMonitor> monitor;
    if (!http.listen.empty()) {
      monitor = std::make_unique<ccmesh::worker::WorkerMonitor>(worker, http);
    }
    if (!ready_file.empty()) {
      ccmesh::writeReadyFile(ready_file, {{"http", monitor ? monitor->url() : std::string()}});
    }
    return worker.run();
  } catch (const ccmesh::ConfigError& e) {
    std::cerr << "ccmesh-worker: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-worker: fatal: " << e.what() << "\n";
    return 1;
  }
}
