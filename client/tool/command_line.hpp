#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ccmesh/common/clock.hpp"
#include "ccmesh/common/expected.hpp"
#include "ccmesh/common/session_options.hpp"

namespace ccmesh::client {

// The `ccmesh` subcommands.
enum class CommandKind {
  kHelp,  // --help or --version was asked for: print `text`, exit 0
  kQuery,
  kStart,
  kFork,  // fork SOURCE NAME: start NAME continuing SOURCE's conversation
  kTerminate,
  kRestart,
  kInfo,
  kMove,        // move NAME --to WORKER
  kSet,         // set NAME --model M --permission-mode P
  kContext,     // context NAME
  kUsage,       // usage [--by session|pool|worker|model]
  kBudget,      // budget NAME [--set USD] [--add USD] [--reset]
  kTranscript,  // transcript NAME
  kList,
  kCount,
  kStatus,
  kPing,
  kWatch,   // prints the broker's events until Ctrl-C
  kKeygen,  // writes a CURVE key pair; talks to no broker
  // `ccmesh pool SUBCOMMAND` (pool_flags.hpp)
  kPoolCreate,
  kPoolQuery,
  kPoolCheckout,
  kPoolCheckin,
  kPoolList,
  kPoolInfo,
  kPoolResize,
  kPoolDelete,
};

// What the `pool` subcommands take besides NAME (the pool, in Command::session).
struct PoolArguments {
  uint32_t size = 0;                 // create (--size), resize (N)
  std::string strategy;              // create: --strategy
  std::vector<std::string> members;  // create: --members a,b,c
  std::string fork_of;               // create: --fork-of SOURCE
  std::string member;                // checkin: MEMBER
  Millis lease{0};                   // checkout: --lease (0: the broker's default)
  uint64_t lease_id = 0;             // checkin: --lease-id (0: any)
};

// How `query` and `pool query` answer the session's tool questions.
enum class Approval {
  kNone,     // deny each, saying how to decide them (the default)
  kAsk,      // --approve: ask on the terminal
  kAll,      // --approve-all
  kDenyAll,  // --deny-all
};

// One invocation of `ccmesh`, fully parsed and checked.
struct Command {
  CommandKind kind = CommandKind::kHelp;
  std::string text;       // kHelp: what to print
  std::string broker;     // the broker's frontend endpoint
  bool json = false;      // print one JSON object instead of text
  Millis timeout{60000};  // how long the tool waits for the broker
  // query: the deadline sent to the broker, only when --timeout was given (0: the session's
  // query_timeout_ms, or the worker's default, applies)
  Millis query_timeout{0};
  std::string session;                  // the session (pool commands: the pool) a command names
  std::string prompt;                   // query: the prompt
  bool stream = false;                  // query: print deltas as they arrive
  Approval approval = Approval::kNone;  // query: who answers tool questions
  bool keep_history = false;            // restart: keep the conversation
  bool from_cut = false;                // restart: accept a cut conversation and continue from it
  std::string worker;                   // move: the target worker (--to)
  std::string watch_pool;               // watch: --pool (--session goes in `session`)
  std::string usage_by{"session"};      // usage: --by
  double budget_set = -1;               // budget: --set (< 0: not given)
  double budget_add = 0;                // budget: --add (0: not given)
  bool budget_reset = false;            // budget: --reset
  SessionOptions options;  // start, fork, pool create: the session's options, validated
  std::string fork_of;     // fork: SOURCE, the session whose conversation it continues
  PoolArguments pool;      // pool commands: the rest of their arguments
  // CURVE: the broker's public key file and this client's secret key file, or empty.
  std::string curve_server_key_file;
  std::string curve_secret_file;
};

// What a command line cannot be run for: printed as `error: bad_request: message`, exit 2.
struct UsageError {
  std::string message;
  bool json = false;  // --json was on the command line: report it as a JSON object
};

// What parsing needs from the process besides argv, so tests can supply it.
struct CommandLineContext {
  std::optional<std::string> broker_from_environment;  // $CCMESH_BROKER, if set
  std::string working_directory;                       // relative --cwd/--add-dir resolve here
  // $CCMESH_CURVE_SERVER_KEY and $CCMESH_CURVE_SECRET, if set.
  std::optional<std::string> curve_server_key_from_environment{};
  std::optional<std::string> curve_secret_from_environment{};
};

// Parses `ccmesh [global options] COMMAND [arguments and options]`; global options (--broker,
// --json, --timeout, --help) may also follow the command. Never throws.
class CommandLine {
 public:
  static Expected<Command, UsageError> parse(const std::vector<std::string>& args,
                                             const CommandLineContext& context);

  // The context of this process: $CCMESH_BROKER and the current directory.
  static CommandLineContext processContext();
};

}  // namespace ccmesh::client
