#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/codec.hpp"
#include "ccmesh/common/curve_keys.hpp"
#include "ccmesh/common/error_code.hpp"
#include "ccmesh/common/expected.hpp"
#include "ccmesh/common/handshake_watch.hpp"
#include "ccmesh/common/permission_messages.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/session_options.hpp"

namespace ccmesh::client {

class LostRequestCheck;

// How a request failed, as the broker (or the client itself, for a local deadline) said.
struct ReplyError {
  ErrorCode code = ErrorCode::kInternal;
  std::string code_name;  // the wire name, kept even when this client does not know it
  std::string message;
  std::string partial;  // answer text produced before the failure, if any
};

template <class T>
using Reply = Expected<T, ReplyError>;

struct ClientOptions {
  // The broker's frontend endpoint; with high availability, the frontends of the cluster's
  // brokers, comma-separated: the client follows a standby's not_leader to the leader, and
  // tries the next one when the broker it talks to falls silent.
  std::string broker = "tcp://127.0.0.1:5555";
  Millis timeout{60000};  // deadline of calls that get none
  // How long query() waits past its deadline for the broker's own `timeout` reply (which
  // carries the partial answer) before giving up locally.
  Millis query_grace{2000};
  // While a query (or start, terminate, restart) waits this long without a word from the
  // broker, the client asks whether the broker still knows it; a restarted broker does
  // not, and the call then ends at once with `unavailable`. 0: never ask.
  Millis broker_check{1000};
  // CURVE keys for a broker started with --curve-secret (loadCurveClientKeys reads them
  // from files); none: plain. A broker that refuses the handshake (unknown key, wrong
  // broker key, or one side without CURVE) makes calls end with `unauthorized` at once.
  std::optional<CurveClientKeys> curve{};
  // The ZeroMQ context to open the connection in, shared with the process's other sockets
  // (needed for inproc:// endpoints, and so that many clients of one process do not each
  // start an I/O thread). It must outlive the client. None: the client's own.
  zmq::context_t* context = nullptr;
};

// A caller's answer to a tool question (docs/SESSIONS.md "Tool approval").
struct PermissionAnswer {
  bool allow = false;
  std::string updated_input;  // allow: the input to run the tool with (a JSON object, as
                              // text); empty: as asked
  std::string message;        // deny: why; the model reads it

  static PermissionAnswer allowed(std::string updated_input = {}) {
    return {true, std::move(updated_input), {}};
  }
  static PermissionAnswer denied(std::string message) { return {false, {}, std::move(message)}; }
};

// Decides a tool question of the session running a query (permission_handler=client). It
// runs on the calling thread while the query waits, and may take its time (a person at a
// terminal): the worker denies the question after the session's permission_timeout_ms.
using PermissionHandler = std::function<PermissionAnswer(const msg::PermissionRequest&)>;

struct QueryOptions {
  bool stream = false;  // ask for delta events
  // The query's deadline, sent to the broker as timeout_ms. 0: none is sent, so the session's
  // query_timeout_ms (or the worker's default) applies; the client then waits at most its
  // own default timeout (plus query_grace) for the answer.
  Millis timeout{0};
  // Polled while waiting; returning true cancels the query (it then ends with `cancelled`).
  std::function<bool()> should_cancel{};
  // Answers the session's tool questions. None: every question is denied at once.
  PermissionHandler on_permission{};
};

// How poolCreate() makes a pool: `size` new members NAME/0 .. NAME/size-1 started with
// `options`, or a pool of the existing sessions `members`.
struct PoolCreateOptions {
  uint32_t size = 0;                 // members to create
  std::string strategy;              // round_robin (default), least_busy or random
  SessionOptions options;            // options of the members it creates
  std::vector<std::string> members;  // existing sessions to group instead
  std::string fork_of;               // non-empty: every member it creates forks this session
};

// One reply of any kind, for callers that keep several requests in flight.
struct Incoming {
  MessageType type = MessageType::kError;  // kEvent, kPermissionRequest, kResult or kError
  uint64_t id = 0;
  msg::Event event;  // when type == kEvent
  // When type == kPermissionRequest: a tool question of query `id`, for answerPermission().
  msg::PermissionRequest permission;
  msg::QueryResult result;  // when type == kResult of a query
  ReplyError error;         // when type == kError
};

// A connection to a ccmesh broker. Every call has a deadline; failures are values, never
// exceptions (except a bad endpoint at construction). Not thread-safe: one per thread.
//
// Replies that arrive for other requests while a call waits for its own (the replies of
// sendQuery) are kept, in arrival order, for receive(). Requests a call gave up on (local
// timeout) are remembered so that their late replies are dropped, not handed to receive().
class Client {
 public:
  // Connects (lazily: a broker that starts later still gets the requests). Throws
  // ConfigError (common/config_loader.hpp) when options.broker is not a valid endpoint.
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs one prompt; on_event sees each streamed event (only with options.stream).
  Reply<msg::QueryResult> query(const std::string& session, const std::string& prompt,
                                const QueryOptions& options = {},
                                const std::function<void(const msg::Event&)>& on_event = {});

  Reply<msg::Ack> start(const std::string& session, const SessionOptions& options = {});
  // Starts `session` as a fork of `source` (docs/SESSIONS.md "Forks"): it continues the
  // source's conversation under a conversation id of its own; the source is left as it is.
  Reply<msg::Ack> fork(const std::string& source, const std::string& session,
                       const SessionOptions& options = {});
  Reply<msg::Ack> terminate(const std::string& session);
  // from_cut: accept a cut conversation (docs/SESSIONS.md) and continue from what is left.
  Reply<msg::Ack> restart(const std::string& session, bool keep_history = false,
                          bool from_cut = false);
  // Changes a session's model and/or permission mode (empty: unchanged) without a restart,
  // between turns (`busy` while a turn runs); kept for its later restarts and moves. Admin
  // role under CURVE.
  Reply<msg::Ack> set(const std::string& session, const std::string& model,
                      const std::string& permission_mode = {});
  // How full the session's context is, as its CLI reports it (`usage`: JSON text).
  Reply<msg::ContextResult> context(const std::string& session);
  Reply<msg::SessionInfo> info(const std::string& session);
  // What the cluster's turns used, one row per session, pool, worker or model (`by`).
  Reply<msg::UsageResult> usage(const std::string& by = "session");
  // Reads (no change asked) or changes the cluster-side budget of a session or a pool: sets
  // it to set_usd (>= 0; 0 removes it), then raises it by add_usd, then (reset) counts from
  // zero again. Admin role under CURVE.
  Reply<msg::BudgetResult> budget(const std::string& name, double add_usd = 0, double set_usd = -1,
                                  bool reset = false);
  // Stops the session gently on its worker and places it on `worker` (next generation) with
  // its conversation; the Ack says where it runs. Admin role under CURVE.
  Reply<msg::Ack> move(const std::string& session, const std::string& worker);
  // The transcript the broker keeps for a session (docs/SESSIONS.md).
  Reply<msg::TranscriptResult> transcript(const std::string& session);
  Reply<std::vector<msg::SessionInfo>> list();
  Reply<msg::CountResult> count();
  Reply<msg::StatusResult> status();
  Reply<msg::PingResult> ping();

  // Streams the broker's events (docs/PROTOCOL.md "watch"), all of them or those of one
  // session or pool, to `on_event` until `should_stop` returns true (polled every 50 ms;
  // the watch then ends `cancelled`) or the broker ends it: `busy` when this client did not
  // keep up, `unavailable` when the broker restarted. Returns how it ended.
  ReplyError watch(const std::string& session, const std::string& pool,
                   const std::function<void(const msg::FeedEvent&)>& on_event,
                   const std::function<bool()>& should_stop);

  // Pools (docs/SESSIONS.md "Pools"). poolQuery runs one prompt on the member the pool's
  // strategy picks; the result's `session` is that member and `pool` the pool.
  Reply<msg::PoolInfo> poolCreate(const std::string& pool, const PoolCreateOptions& options);
  Reply<msg::QueryResult> poolQuery(const std::string& pool, const std::string& prompt,
                                    const QueryOptions& options = {},
                                    const std::function<void(const msg::Event&)>& on_event = {});
  // Reserves one idle member of a pool for this caller until checkin() or until `lease`
  // lapses (0: the broker's default, 60 s). With no idle member it waits up to `wait` (0:
  // this client's default timeout), then ends with pool_exhausted. `should_cancel` is polled
  // while it waits; returning true withdraws the checkout (it then ends with `cancelled`
  // and is never granted).
  Reply<msg::CheckoutResult> checkout(const std::string& pool, Millis lease = Millis{0},
                                      Millis wait = Millis{0},
                                      const std::function<bool()>& should_cancel = {});
  // Gives a checked-out member back. `lease_id` is the one checkout() returned; 0 works only
  // for the client holding the lease (this connection, or the same CURVE key).
  Reply<msg::CheckinResult> checkin(const std::string& pool, const std::string& member,
                                    uint64_t lease_id = 0);
  Reply<std::vector<msg::PoolInfo>> poolList();
  Reply<msg::PoolInfo> poolInfo(const std::string& pool);
  Reply<msg::PoolInfo> poolResize(const std::string& pool, uint32_t size);
  Reply<msg::PoolInfo> poolDelete(const std::string& pool);

  // Asynchronous use: send queries without waiting, then collect their replies.
  uint64_t sendQuery(const std::string& session, const std::string& prompt,
                     const QueryOptions& options = {});
  // The same for a pool query (the result names the member that answered).
  uint64_t sendPoolQuery(const std::string& pool, const std::string& prompt,
                         const QueryOptions& options = {});
  // The next event, result or error for any request, or nothing within `wait`.
  std::optional<Incoming> receive(Millis wait);
  // Asks the broker to stop request `id`; it then ends with `cancelled`.
  void cancel(uint64_t id);
  // Answers a tool question that receive() handed over (kPermissionRequest) for query `id`.
  void answerPermission(uint64_t id, const std::string& request, const PermissionAnswer& answer);

 private:
  // What a call does while it waits for its final reply.
  // A request of sendQuery (sendPoolQuery) kept until its final reply, to send it again to
  // the leader a standby names, or to the next broker if it never reached the one it went to.
  struct AsyncRequest {
    MessageType type = MessageType::kQuery;
    msgpack::sbuffer body;
    std::string sent_to;                // the broker it went to last
    int redirects = 0;                  // not_leader replies followed so far
    std::optional<TimePoint> retry_at;  // when to send it again (election under way)
  };

  struct Waiting {
    const std::function<void(const msg::Event&)>* on_event = nullptr;  // sees events, or null
    const std::function<void(const msg::FeedEvent&)>* on_feed_event = nullptr;  // a watch's
    const std::function<bool()>* should_cancel = nullptr;  // asked every 50 ms, or null
    const PermissionHandler* on_permission = nullptr;      // answers tool questions, or null
    std::string partial;                                   // text of the delta events seen so far
    bool cancel_sent = false;                              // `cancel` went out for this request
    LostRequestCheck* check = nullptr;  // asks whether the broker still knows it, or null
    // A read-only request to send again (same id) instead of asking about it, or null: the
    // broker answers those at once, so silence means it died with the request.
    const msgpack::sbuffer* resend = nullptr;
    MessageType resend_type = MessageType::kPing;  // the type of `resend`
    Millis resend_interval{0};                     // silence before the next resend; doubles
    // The request as sent, to send again to the leader a standby names (not_leader); null:
    // not sent again.
    const msgpack::sbuffer* body = nullptr;
    MessageType type = MessageType::kPing;  // the type of `body`
    int redirects = 0;                      // not_leader replies followed so far
    std::optional<TimePoint> retry_at;      // when to send `body` again (election under way)
  };

  // Sends one management request and waits for its final reply for `wait` (0: the default
  // timeout); `should_cancel` (or null) is polled meanwhile, and sends `cancel` once.
  Expected<Envelope, ReplyError> call(MessageType type, uint64_t id, const msgpack::sbuffer& body,
                                      Millis wait = Millis{0},
                                      const std::function<bool()>* should_cancel = nullptr);
  // Sends a query (or pool_query) body with id `id` and waits for its answer (see query()).
  Reply<msg::QueryResult> runQuery(MessageType type, uint64_t id, const msgpack::sbuffer& body,
                                   const QueryOptions& options,
                                   const std::function<void(const msg::Event&)>& on_event);
  // Sends a query or pool query body of id `id` for receive(); a failure to send becomes its
  // final reply there.
  uint64_t sendAsync(MessageType type, uint64_t id, const msgpack::sbuffer& body,
                     const QueryOptions& options);
  // Sends without blocking past `deadline` (a full queue waits for room).
  std::optional<ReplyError> sendRequest(MessageType type, const msgpack::sbuffer& body,
                                        TimePoint deadline);
  // Waits for the final reply of `id`, passing its events to `waiting`, keeping replies of
  // other requests for receive(). nullopt when the deadline passes first. When
  // should_cancel turns true, sends `cancel` once and keeps waiting.
  std::optional<Expected<Envelope, DecodeError>> awaitFinal(uint64_t id, TimePoint deadline,
                                                            Waiting& waiting);
  // One message from the socket without blocking, decoded as far as its frames go.
  std::optional<Expected<Envelope, DecodeError>> readOne();
  // Answers the tool question `message` of query `id` with `on_permission` (deny without one).
  void answerQuestion(uint64_t id, const Envelope& message, const PermissionHandler* on_permission);
  // Keeps a message for receive() unless it belongs to a request this client gave up on.
  void stash(Expected<Envelope, DecodeError> message);
  // Sends the ping of a LostRequestCheck on request `id`.
  void sendCheck(uint64_t id, LostRequestCheck& check);
  // Talks to `endpoint` from now on (the socket leaves the one before).
  void connectTo(const std::string& endpoint);
  // With several brokers: talks to the next one of the list; false with a single one.
  bool tryNextBroker();
  // If `message` is a standby's not_leader naming the leader, talks to the leader and
  // returns true.
  bool followLeader(const Expected<Envelope, DecodeError>& message);
  // `message` is a standby's not_leader naming a leader this client just found dead: a new
  // one is being elected.
  bool electionUnderWay(const Expected<Envelope, DecodeError>& message) const;
  // With several brokers, when the connection to the one talked to failed or closed: moves
  // on to the next, sends again what sendQuery sent there if it never got there, and ends
  // the rest `unavailable`. Returns whether that broker had been reached; nothing if no
  // connection was lost.
  std::optional<bool> moveOnFromLostBroker();
  // Resends due retries and moves on from a lost broker, for receive().
  void superviseAsync();
  void resendAsync(AsyncRequest& request);
  // This client no longer talks to `left`: what sendQuery sent there is sent again (when
  // `did_nothing`: a standby refused it, or it never got there) or ends `unavailable`.
  void settleAsyncSentTo(const std::string& left, bool did_nothing);
  // Blocks until the socket has `events` (ZMQ_POLLIN / ZMQ_POLLOUT) or `wait` passed.
  void pollFor(short events, Millis wait);
  // The local timeout error of a call that waited `waited`.
  ReplyError localTimeout(Millis waited) const;
  // Why no reply came: the broker refused the security handshake (unauthorized), or the
  // deadline passed (timeout).
  ReplyError noReply(Millis waited);

  ClientOptions options_;                          // endpoint and default deadline
  std::unique_ptr<zmq::context_t> own_context_;    // when options.context is none
  zmq::context_t& context_;                        // declared before the socket: destroyed after it
  zmq::socket_t socket_;                           // DEALER connected to the broker frontend
  HandshakeWatch handshakes_;                      // refused security handshakes of socket_
  std::vector<std::string> brokers_;               // options_.broker, split at commas
  std::string endpoint_;                           // the broker talked to now
  std::map<std::string, TimePoint> lost_brokers_;  // endpoint -> when its connection was lost
  std::map<uint64_t, AsyncRequest> async_;         // with several brokers only
  uint64_t next_id_ = 1;                           // next request id
  std::deque<Incoming> stashed_;  // replies of other requests, oldest first, for receive()
  std::set<uint64_t> abandoned_;  // requests given up on locally: their late replies drop
};

}  // namespace ccmesh::client
