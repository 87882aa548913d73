#include "http_api/local_clients.hpp"

namespace ccmesh::broker {

LocalClients::LocalClients(zmq::context_t& context, std::string endpoint, Millis patience,
                           Millis query_grace)
    : context_(context),
      endpoint_(std::move(endpoint)),
      patience_(patience),
      query_grace_(query_grace) {}

LocalClients::Lease::~Lease() {
  if (client_) owner_->giveBack(std::move(client_));
}

LocalClients::Lease LocalClients::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(client));
    }
  }
  client::ClientOptions options;
  options.broker = endpoint_;
  options.context = &context_;
  options.timeout = patience_;
  options.query_grace = query_grace_;
  // The broker runs in this process: it cannot restart under a request, so there is
  // nothing to ask it about while a query runs long.
  options.broker_check = Millis{0};
  return Lease(*this, std::make_unique<client::Client>(std::move(options)));
}

void LocalClients::giveBack(std::unique_ptr<client::Client> client) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(client));
}

}  // namespace ccmesh::broker
