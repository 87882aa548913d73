#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/client/client.hpp"

namespace ccmesh::broker {

// Clients of the broker's own process, for the HTTP API's threads: each connects to the
// frontend's in-process endpoint (Broker::localEndpoint) in the broker's context, so a
// request from HTTP travels the same path, with the same checks, as one from any client.
// A client serves one thread at a time; it goes back to the pool only when its request
// ended, so it never holds a stray reply.
class LocalClients {
 public:
  // `patience`: the longest a call waits for the broker; `query_grace`: past a query's
  // own timeout_ms.
  LocalClients(zmq::context_t& context, std::string endpoint, Millis patience, Millis query_grace);

  // One client, for one thread, until the lease ends.
  class Lease {
   public:
    Lease(LocalClients& owner, std::unique_ptr<client::Client> client)
        : owner_(&owner), client_(std::move(client)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    client::Client& operator*() { return *client_; }
    client::Client* operator->() { return client_.get(); }
    // Its request did not end (given up on): the client is closed, not reused.
    void discard() { client_.reset(); }

   private:
    LocalClients* owner_;
    std::unique_ptr<client::Client> client_;
  };

  // An idle client, or a new one.
  Lease acquire();

  // Clients kept idle at most; more are closed when given back.
  static constexpr std::size_t kMaxIdle = 64;

 private:
  void giveBack(std::unique_ptr<client::Client> client);

  zmq::context_t& context_;                            // the broker's
  std::string endpoint_;                               // inproc://...
  Millis patience_;                                    // ClientOptions::timeout
  Millis query_grace_;                                 // ClientOptions::query_grace
  std::mutex mutex_;                                   // guards idle_
  std::vector<std::unique_ptr<client::Client>> idle_;  // ready for the next request
};

}  // namespace ccmesh::broker
