// CommandRunner, continued: the `ccmesh pool` commands other than `pool query`.
#include "command_runner.hpp"
#include "human_output.hpp"
#include "json_output.hpp"

namespace ccmesh::client {

int CommandRunner::runPool(const Command& command, Client& client,
                           const std::function<bool()>& should_cancel) {
  auto as_json = [](const auto& value) { return Json(value); };
  auto pool_json = [](const msg::PoolInfo& pool) { return Json{{"pool", pool}}; };
  auto show_pool = [this](const char* verb) {
    return [this, verb](const msg::PoolInfo& pool) { printPoolInfo(out_, verb, pool); };
  };
  const std::string& pool = command.session;
  const auto& arguments = command.pool;

  switch (command.kind) {
    case CommandKind::kPoolCreate: {
      PoolCreateOptions options{arguments.size, arguments.strategy, command.options,
                                arguments.members, arguments.fork_of};
      return finish(client.poolCreate(pool, options), command.json, pool_json,
                    show_pool("created"));
    }
    case CommandKind::kPoolCheckout:
      return finish(client.checkout(pool, arguments.lease, Millis{0}, should_cancel), command.json,
                    as_json, [this](const msg::CheckoutResult& v) { printCheckout(out_, v); });
    case CommandKind::kPoolCheckin:
      return finish(client.checkin(pool, arguments.member, arguments.lease_id), command.json,
                    as_json, [this](const msg::CheckinResult& v) {
                      out_ << "checked in " << v.member << " to pool " << v.pool << "\n";
                    });
    case CommandKind::kPoolList:
      return finish(
          client.poolList(), command.json,
          [](const std::vector<msg::PoolInfo>& pools) {
            return Json{{"pools", pools}};
          },
          [this](const std::vector<msg::PoolInfo>& v) { printPoolList(out_, v); });
    case CommandKind::kPoolInfo:
      return finish(client.poolInfo(pool), command.json, pool_json, show_pool(nullptr));
    case CommandKind::kPoolResize:
      return finish(client.poolResize(pool, arguments.size), command.json, pool_json,
                    show_pool("resized"));
    case CommandKind::kPoolDelete:
      return finish(client.poolDelete(pool), command.json, pool_json, show_pool("deleted"));
    default:
      return 1;
  }
}

}  // namespace ccmesh::client
