// Client, continued: the pool requests (docs/SESSIONS.md "Pools").
#include <algorithm>

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/requests.hpp"
#include "reply_decoding.hpp"

namespace ccmesh::client {
namespace {

// The result shape T of a management call's final reply, or its error.
template <class T>
Reply<T> unwrapPool(Expected<Envelope, ReplyError> reply) {
  if (!reply.ok()) return reply.error();
  return decodeFinal<T>(Expected<Envelope, DecodeError>(std::move(reply.value())));
}

// The PoolInfo of a pool_create / pool_info / pool_resize / pool_delete reply.
Reply<msg::PoolInfo> poolOf(Reply<msg::PoolInfoResult> reply) {
  if (!reply.ok()) return reply.error();
  return std::move(reply.value().pool);
}

msg::PoolQuery makePoolQuery(uint64_t id, const std::string& pool, const std::string& prompt,
                             const QueryOptions& options) {
  msg::PoolQuery request;
  request.id = id;
  request.pool = pool;
  request.prompt = prompt;
  request.stream = options.stream;
  request.timeout_ms =
      options.timeout > Millis{0} ? static_cast<uint64_t>(options.timeout.count()) : 0;
  return request;
}

}  // namespace

Reply<msg::PoolInfo> Client::poolCreate(const std::string& pool, const PoolCreateOptions& options) {
  msg::PoolCreate request{
      next_id_++,      pool,           options.size, options.strategy, options.options,
      options.members, options.fork_of};
  return poolOf(unwrapPool<msg::PoolInfoResult>(
      call(MessageType::kPoolCreate, request.id, encodeBody(request))));
}

Reply<msg::QueryResult> Client::poolQuery(const std::string& pool, const std::string& prompt,
                                          const QueryOptions& options,
                                          const std::function<void(const msg::Event&)>& on_event) {
  const msg::PoolQuery request = makePoolQuery(next_id_++, pool, prompt, options);
  return runQuery(MessageType::kPoolQuery, request.id, encodeBody(request), options, on_event);
}

uint64_t Client::sendPoolQuery(const std::string& pool, const std::string& prompt,
                               const QueryOptions& options) {
  const msg::PoolQuery request = makePoolQuery(next_id_++, pool, prompt, options);
  return sendAsync(MessageType::kPoolQuery, request.id, encodeBody(request), options);
}

Reply<msg::CheckoutResult> Client::checkout(const std::string& pool, Millis lease, Millis wait,
                                            const std::function<bool()>& should_cancel) {
  if (wait <= Millis{0}) wait = options_.timeout;
  msg::PoolCheckout request{next_id_++, pool,
                            static_cast<uint64_t>(std::max<int64_t>(0, lease.count())),
                            static_cast<uint64_t>(wait.count())};
  // The broker answers pool_exhausted at `wait`; allow its reply the time to arrive.
  return unwrapPool<msg::CheckoutResult>(call(MessageType::kPoolCheckout, request.id,
                                              encodeBody(request), wait + options_.query_grace,
                                              &should_cancel));
}

Reply<msg::CheckinResult> Client::checkin(const std::string& pool, const std::string& member,
                                          uint64_t lease_id) {
  msg::PoolCheckin request{next_id_++, pool, member, lease_id};
  return unwrapPool<msg::CheckinResult>(
      call(MessageType::kPoolCheckin, request.id, encodeBody(request)));
}

Reply<std::vector<msg::PoolInfo>> Client::poolList() {
  msg::Plain request{next_id_++};
  auto reply = unwrapPool<msg::PoolListResult>(
      call(MessageType::kPoolList, request.id, encodeBody(request)));
  if (!reply.ok()) return reply.error();
  return std::move(reply.value().pools);
}

Reply<msg::PoolInfo> Client::poolInfo(const std::string& pool) {
  msg::PoolNamed request{next_id_++, pool};
  return poolOf(unwrapPool<msg::PoolInfoResult>(
      call(MessageType::kPoolInfo, request.id, encodeBody(request))));
}

Reply<msg::PoolInfo> Client::poolResize(const std::string& pool, uint32_t size) {
  msg::PoolResize request{next_id_++, pool, size};
  return poolOf(unwrapPool<msg::PoolInfoResult>(
      call(MessageType::kPoolResize, request.id, encodeBody(request))));
}

Reply<msg::PoolInfo> Client::poolDelete(const std::string& pool) {
  msg::PoolNamed request{next_id_++, pool};
  return poolOf(unwrapPool<msg::PoolInfoResult>(
      call(MessageType::kPoolDelete, request.id, encodeBody(request))));
}

}  // namespace ccmesh::client
