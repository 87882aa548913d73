#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"
#include "latency_samples.hpp"

namespace ccmesh::bench {

// Which name each query asks: most go to a few hot names, some return to a name used
// before, and some use a name for the first time (on-demand names: that is their first
// turn). The names are PREFIX-0 .. PREFIX-(names-1).
class NameMix {
 public:
  NameMix(std::string prefix, std::size_t names);
  std::string next();
  static std::string name(const std::string& prefix, std::size_t index) {
    return prefix + "-" + std::to_string(index);
  }

 private:
  std::string prefix_;
  std::size_t names_;  // registered names
  std::size_t hot_;    // names 0 .. hot_-1 are the hot ones
  std::size_t used_;   // names hot_ .. used_-1 have been used
  std::mt19937_64 random_{42};
};

// What a stretch of load saw.
struct LoadFigures {
  std::size_t sent = 0;          // requests sent
  std::size_t answered = 0;      // ended with a result
  std::size_t failed = 0;        // ended with an error
  std::size_t unanswered = 0;    // still open at the deadline
  uint64_t text_bytes = 0;       // answer text received in delta events
  uint64_t events = 0;           // delta events received
  std::size_t out_of_order = 0;  // askInOrder: answered before an earlier query of its name
  double seconds = 0;            // from the first send to the last answer
  LatencySamples latency;        // send -> result, for each answered request
  std::string first_error;       // the first error's code and message
};

// Many client sockets of the frontend protocol (DEALERs sending [CCM1][type][body]) driven
// from the calling thread: registers names with `start`, asks streamed queries at a fixed
// rate or with a fixed number in flight, and times each from its sending to its result.
class FleetLoad {
 public:
  FleetLoad(const std::string& frontend, std::size_t sockets);
  ~FleetLoad();
  FleetLoad(const FleetLoad&) = delete;
  FleetLoad& operator=(const FleetLoad&) = delete;

  // The prompt every query carries from now on.
  void setPrompt(std::string prompt) { prompt_ = std::move(prompt); }

  // `start` of names PREFIX-first .. PREFIX-(first+count-1) as on-demand sessions, with
  // `in_flight` outstanding at a time.
  LoadFigures registerNames(const std::string& prefix, std::size_t first, std::size_t count,
                            std::size_t in_flight, Millis deadline);
  // Streamed queries with `in_flight` outstanding at a time, for `duration`.
  LoadFigures closedLoop(NameMix& names, std::size_t in_flight, Millis duration);
  // Streamed queries sent at `rate` per second, evenly spaced, for `duration`; then waits
  // up to `drain` for the last answers.
  LoadFigures openLoop(NameMix& names, double rate, Millis duration, Millis drain);
  // `per_name` streamed queries to each of `names`, all sent at once (a name's queries one
  // after the other on one socket, so the broker takes them in that order); waits up to
  // `deadline` for the answers and counts those that came before an earlier query's.
  LoadFigures askInOrder(const std::vector<std::string>& names, std::size_t per_name,
                         Millis deadline);

 private:
  using Clock = std::chrono::steady_clock;
  struct Open {
    Clock::time_point sent;
    std::size_t name = SIZE_MAX;  // askInOrder: the index of its name
    std::size_t order = 0;        // askInOrder: its place among its name's queries
  };
  // Sends one request of `type` with `body`'s bytes on socket `socket` (by default the
  // next one in turn).
  void send(std::string_view type, uint64_t id, const std::string& body_bytes,
            std::optional<std::size_t> socket = std::nullopt);
  uint64_t sendQuery(const std::string& session, std::optional<std::size_t> socket = std::nullopt);
  uint64_t sendStart(const std::string& session);
  // Keeps `in_flight` requests outstanding, `send` sending the next one (false: none left
  // to send), until all are settled or `give_up` comes.
  LoadFigures keepInFlight(std::size_t in_flight, Clock::time_point give_up,
                           const std::function<bool()>& send);
  // Reads what arrived within `wait`, settling requests into `figures`.
  void receive(Millis wait, LoadFigures& figures);

  zmq::context_t context_{1};
  std::vector<std::unique_ptr<zmq::socket_t>> sockets_;
  std::vector<zmq::pollitem_t> items_;
  std::size_t next_socket_ = 0;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Open> open_;  // request id -> when it was sent
  std::vector<zmq::message_t> frames_;
  std::string prompt_ = "what changed?";
  std::vector<std::size_t> answered_of_name_;  // askInOrder: answers so far, by name
};

}  // namespace ccmesh::bench
