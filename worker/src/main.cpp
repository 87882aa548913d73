// ccmesh-worker: hosts ccmesh sessions, one supervised CLI process each.
#include <exception>
#include <iostream>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/logging.hpp"
#include "ccmesh/worker/worker.hpp"
#include "ccmesh/worker/worker_config.hpp"
#include "group_keeper.hpp"

int main(int argc, char** argv) {
  try {
    auto config = ccmesh::worker::loadWorkerConfig(argc, argv);
    if (!config) return 0;
    ccmesh::setupLogging(config->log_level);
    // Before any thread exists: the keeper is a plain fork of this small process.
    ccmesh::worker::GroupKeeper::start();
    ccmesh::SteadyClock clock;
    ccmesh::worker::Worker worker(std::move(*config), clock);
    return worker.run();
  } catch (const ccmesh::ConfigError& e) {
    std::cerr << "ccmesh-worker: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ccmesh-worker: fatal: " << e.what() << "\n";
    return 1;
  }
}
