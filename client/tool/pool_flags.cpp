#include "pool_flags.hpp"

#include <charconv>

#include "approval.hpp"
#include "ccmesh/common/limits.hpp"
#include "ccmesh/common/pool_strategy.hpp"
#include "ccmesh/common/sessions_file.hpp"
#include "start_flags.hpp"

namespace po = boost::program_options;

namespace ccmesh::client {
namespace {

// A non-negative integer argument, or nothing when `text` is not one.
template <class T>
std::optional<T> parseNumber(const std::string& text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// "a,b" -> {"a", "b"}, empty entries dropped.
void appendList(const std::string& value, std::vector<std::string>& out) {
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = std::min(value.find(',', start), value.size());
    if (comma > start) out.push_back(value.substr(start, comma - start));
    start = comma + 1;
  }
}

// Reads create's flags.
std::optional<std::string> readCreate(const po::variables_map& vm,
                                      const std::string& working_directory, Command& command) {
  auto& pool = command.pool;
  if (vm.count("size")) {
    auto size = parseNumber<uint32_t>(vm["size"].as<std::string>());
    if (!size || *size == 0 || *size > limits::kMaxPoolSize) {
      return "--size must be 1.." + std::to_string(limits::kMaxPoolSize);
    }
    pool.size = *size;
  }
  if (vm.count("members")) {
    for (const auto& list : vm["members"].as<std::vector<std::string>>()) {
      appendList(list, pool.members);
    }
  }
  if ((pool.size == 0) == pool.members.empty()) {
    return "give either --size N (members to create) or --members a,b,c (existing sessions)";
  }
  if (vm.count("strategy")) pool.strategy = vm["strategy"].as<std::string>();
  if (!parsePoolStrategy(pool.strategy)) {
    return "--strategy must be round_robin, least_busy or random";
  }
  if (auto error = readStartFlags(vm, working_directory, command.options)) return error;
  if (!pool.members.empty() && !(command.options == SessionOptions{})) {
    return "session options apply to members a pool creates, not to --members";
  }
  if (vm.count("pool-budget-usd")) {
    if (auto error =
            command.options.set("pool_budget_usd", vm["pool-budget-usd"].as<std::string>())) {
      return error->message;
    }
  }
  if (vm.count("fork-of")) pool.fork_of = vm["fork-of"].as<std::string>();
  if (!pool.members.empty() && !pool.fork_of.empty()) {
    return "--fork-of applies to members a pool creates, not to --members";
  }
  return std::nullopt;
}

}  // namespace

bool isPoolCommand(CommandKind kind) {
  switch (kind) {
    case CommandKind::kPoolCreate:
    case CommandKind::kPoolQuery:
    case CommandKind::kPoolCheckout:
    case CommandKind::kPoolCheckin:
    case CommandKind::kPoolList:
    case CommandKind::kPoolInfo:
    case CommandKind::kPoolResize:
    case CommandKind::kPoolDelete:
      return true;
    default:
      return false;
  }
}

void addPoolFlags(CommandKind kind, po::options_description& options) {
  switch (kind) {
    case CommandKind::kPoolCreate:
      // clang-format off
      options.add_options()
          ("size", po::value<std::string>()->value_name("N"),
           "create N members NAME/0 .. NAME/N-1, spread over the workers")
          ("members", po::value<std::vector<std::string>>()->value_name("a,b,c"),
           "group existing sessions instead (repeatable); delete leaves them running")
          ("strategy", po::value<std::string>()->value_name("S"),
           "round_robin (default), least_busy or random")
          ("pool-budget-usd", po::value<std::string>()->value_name("USD"),
           "the pool's budget: once its members' turns cost this much together, its queries "
           "get budget_exhausted (see ccmesh budget)")
          ("fork-of", po::value<std::string>()->value_name("SOURCE"),
           "every member it creates continues SOURCE's conversation (see ccmesh fork --help)");
      // clang-format on
      addStartFlags(options);
      break;
    case CommandKind::kPoolQuery:
      options.add_options()("stream", po::bool_switch(),
                            "print the answer as it is produced (Ctrl-C cancels the query)");
      addApprovalFlags(options);
      break;
    case CommandKind::kPoolCheckout:
      options.add_options()("lease", po::value<std::string>()->value_name("MS"),
                            "keep the member this long unless checked in (default: 60000)");
      break;
    case CommandKind::kPoolCheckin:
      options.add_options()("lease-id", po::value<std::string>()->value_name("N"),
                            "the lease checkout printed; refused if the lease lapsed");
      break;
    default:
      break;
  }
}

void addPoolPositionals(CommandKind kind, po::options_description& all,
                        po::positional_options_description& positional) {
  const char* name = kind == CommandKind::kPoolQuery     ? "prompt"
                     : kind == CommandKind::kPoolCheckin ? "member"
                     : kind == CommandKind::kPoolResize  ? "new-size"
                                                         : nullptr;
  if (name == nullptr) return;
  all.add_options()(name, po::value<std::string>());
  positional.add(name, 1);
}

std::optional<std::string> readPoolFlags(const po::variables_map& vm,
                                         const std::string& working_directory, Command& command) {
  if (!command.session.empty()) {
    if (auto error = validatePoolName(command.session)) return error->message;
  }
  switch (command.kind) {
    case CommandKind::kPoolCreate:
      return readCreate(vm, working_directory, command);
    case CommandKind::kPoolQuery:
      if (!vm.count("prompt")) return "missing PROMPT";
      command.prompt = vm["prompt"].as<std::string>();
      command.stream = vm["stream"].as<bool>();
      return readApproval(vm, command.approval);
    case CommandKind::kPoolCheckout:
      if (vm.count("lease")) {
        auto lease = parseNumber<int64_t>(vm["lease"].as<std::string>());
        if (!lease || *lease <= 0) return "--lease must be a positive number of milliseconds";
        command.pool.lease = Millis{*lease};
      }
      return std::nullopt;
    case CommandKind::kPoolCheckin:
      if (!vm.count("member")) return "missing MEMBER";
      command.pool.member = vm["member"].as<std::string>();
      if (vm.count("lease-id")) {
        auto lease_id = parseNumber<uint64_t>(vm["lease-id"].as<std::string>());
        if (!lease_id) return "--lease-id must be a number";
        command.pool.lease_id = *lease_id;
      }
      return std::nullopt;
    case CommandKind::kPoolResize: {
      if (!vm.count("new-size")) return "missing N";
      auto size = parseNumber<uint32_t>(vm["new-size"].as<std::string>());
      if (!size || *size == 0 || *size > limits::kMaxPoolSize) {
        return "N must be 1.." + std::to_string(limits::kMaxPoolSize);
      }
      command.pool.size = *size;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::string poolCommandNotes(CommandKind kind) {
  switch (kind) {
    case CommandKind::kPoolCreate:
      return "Members are ordinary sessions: `ccmesh info NAME/0` shows one. They start in the\n"
             "background; `ccmesh pool info NAME` shows their states. With --fork-of SOURCE\n"
             "each continues SOURCE's conversation, as `ccmesh fork` does (so do members a\n"
             "later resize adds).\n";
    case CommandKind::kPoolQuery:
      return "Prints the answer, then `answered by MEMBER of pool POOL on WORKER`.\n"
             "PROMPT is one argument (quote it). When every member is busy or checked out:\n"
             "pool_exhausted at once.\n";
    case CommandKind::kPoolCheckout:
      return "Prints the member reserved for you and its lease id; query it by name, then\n"
             "`ccmesh pool checkin NAME MEMBER`. Waits up to --timeout for a free member, then\n"
             "pool_exhausted. A lease that lapses returns the member to the pool.\n";
    case CommandKind::kPoolDelete:
      return "Terminates the members the pool created; sessions grouped with --members stay.\n";
    case CommandKind::kPoolResize:
      return "Only for pools that created their members: starts or terminates NAME/i.\n";
    default:
      return {};
  }
}

}  // namespace ccmesh::client
