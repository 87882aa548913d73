#include "command_line.hpp"

#include <algorithm>
#include <array>
#include <boost/program_options.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string_view>

#include "approval.hpp"
#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/version.hpp"
#include "pool_flags.hpp"
#include "start_flags.hpp"

namespace po = boost::program_options;

namespace ccmesh::client {
namespace {

constexpr std::string_view kDefaultBroker = "tcp://127.0.0.1:5555";
constexpr int64_t kDefaultTimeoutMs = 60000;

// One subcommand: its name, what it takes and what it does.
struct CommandSpec {
  std::string_view name;       // the command word
  CommandKind kind;            // what it parses into
  std::string_view arguments;  // positional arguments, for the synopsis
  std::string_view summary;    // one line for the general help
};

constexpr std::array<CommandSpec, 26> kCommands{{
    {"query", CommandKind::kQuery, "NAME PROMPT [--stream] [--approve|--approve-all|--deny-all]",
     "run one prompt on a session and print the answer"},
    {"start", CommandKind::kStart, "NAME [session options]",
     "register a session and place it on a worker"},
    {"fork", CommandKind::kFork, "SOURCE NAME [session options]",
     "start a session that continues SOURCE's conversation under an id of its own"},
    {"terminate", CommandKind::kTerminate, "NAME", "stop a session and forget its name"},
    {"restart", CommandKind::kRestart, "NAME [--keep-history | --from-cut]",
     "restart a session's CLI (a fresh conversation unless --keep-history or --from-cut)"},
    {"info", CommandKind::kInfo, "NAME", "show one session"},
    {"move", CommandKind::kMove, "NAME --to WORKER",
     "stop a session gently and continue its conversation on another worker"},
    {"set", CommandKind::kSet, "NAME [--model M] [--permission-mode P]",
     "change a session's model or permission mode without a restart"},
    {"context", CommandKind::kContext, "NAME",
     "show how full a session's context window is, as its CLI reports it"},
    {"usage", CommandKind::kUsage, "[--by session|pool|worker|model]",
     "show what turns cost and used: per session, pool, worker or model"},
    {"budget", CommandKind::kBudget, "NAME [--set USD] [--add USD] [--reset]",
     "show or change the cluster-side budget of a session or a pool"},
    {"transcript", CommandKind::kTranscript, "NAME",
     "print the conversation the broker keeps for a session"},
    {"list", CommandKind::kList, "", "list every session"},
    {"count", CommandKind::kCount, "", "count sessions, per state"},
    {"status", CommandKind::kStatus, "", "show the broker's workers and totals"},
    {"ping", CommandKind::kPing, "", "check that the broker answers"},
    {"watch", CommandKind::kWatch, "[--session NAME] [--pool NAME]",
     "print the broker's events as they happen, until Ctrl-C"},
    {"keygen", CommandKind::kKeygen, "NAME",
     "write a CURVE key pair: NAME.key (secret) and NAME.pub (public)"},
    {"pool create", CommandKind::kPoolCreate,
     "NAME --size N [--fork-of SOURCE]|--members a,b [--strategy S]",
     "create a pool of N new sessions NAME/i, or of existing ones"},
    {"pool query", CommandKind::kPoolQuery,
     "NAME PROMPT [--stream] [--approve|--approve-all|--deny-all]",
     "run one prompt on the member the pool's strategy picks"},
    {"pool checkout", CommandKind::kPoolCheckout, "NAME [--lease MS]",
     "reserve one idle member of a pool for yourself"},
    {"pool checkin", CommandKind::kPoolCheckin, "NAME MEMBER [--lease-id N]",
     "give a checked-out member back to its pool"},
    {"pool list", CommandKind::kPoolList, "", "list every pool"},
    {"pool info", CommandKind::kPoolInfo, "NAME",
     "show a pool: each member's state, worker, turns, checkout"},
    {"pool resize", CommandKind::kPoolResize, "NAME N",
     "grow or shrink a pool that created its members"},
    {"pool delete", CommandKind::kPoolDelete, "NAME",
     "delete a pool (terminating the members it created)"},
}};

const CommandSpec* findCommand(std::string_view name) {
  auto it = std::find_if(kCommands.begin(), kCommands.end(),
                         [name](const CommandSpec& spec) { return spec.name == name; });
  return it == kCommands.end() ? nullptr : &*it;
}

// Long options only, whole words: a misspelt option is an error, not a guess.
int parserStyle() {
  return po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
}

po::options_description globalOptions() {
  po::options_description global("Global options (before or after the command)");
  // clang-format off
  global.add_options()
      ("broker", po::value<std::string>()->value_name("ENDPOINT"),
       "the broker's frontend (default: $CCMESH_BROKER, else tcp://127.0.0.1:5555)")
      ("json", po::bool_switch(), "print exactly one JSON object on stdout")
      ("timeout", po::value<int64_t>()->default_value(kDefaultTimeoutMs)->value_name("MS"),
       "deadline of the call in ms; a query sends it to the broker as its deadline (without "
       "--timeout the session's query_timeout_ms applies)")
      ("curve-server-key", po::value<std::string>()->value_name("FILE"),
       "the broker's CURVE public key file, for a broker with keys (default: "
       "$CCMESH_CURVE_SERVER_KEY)")
      ("curve-secret", po::value<std::string>()->value_name("FILE"),
       "this client's CURVE secret key file (default: $CCMESH_CURVE_SECRET)")
      ("help,h", "print help (`ccmesh COMMAND --help` describes a command)")
      ("version", "print the version");
  // clang-format on
  return global;
}

po::options_description commandOptions(CommandKind kind) {
  po::options_description options("Command options");
  if (kind == CommandKind::kQuery) {
    options.add_options()("stream", po::bool_switch(),
                          "print the answer as it is produced (Ctrl-C cancels the query)");
    addApprovalFlags(options);
  } else if (kind == CommandKind::kRestart) {
    options.add_options()("keep-history", po::bool_switch(),
                          "resume the same conversation instead of a fresh one")(
        "from-cut", po::bool_switch(),
        "accept a cut conversation (queries answer conversation_incomplete): continue from "
        "what is left of it");
  } else if (kind == CommandKind::kSet) {
    options.add_options()("model", po::value<std::string>()->value_name("M"),
                          "the model its CLI uses from the next turn")(
        "permission-mode", po::value<std::string>()->value_name("P"),
        "default, acceptEdits, bypassPermissions, plan, dontAsk or auto");
  } else if (kind == CommandKind::kUsage) {
    options.add_options()("by",
                          po::value<std::string>()->default_value("session")->value_name("BY"),
                          "one row per session, pool, worker or model");
  } else if (kind == CommandKind::kBudget) {
    options.add_options()("set", po::value<double>()->value_name("USD"),
                          "make the budget USD (0 removes it)")(
        "add", po::value<double>()->value_name("USD"),
        "raise the budget by USD (without one: USD more than spent so far)")(
        "reset", po::bool_switch(), "count the budget from zero again (the totals stay)");
  } else if (kind == CommandKind::kMove) {
    options.add_options()("to", po::value<std::string>()->value_name("WORKER"),
                          "the worker to move it to (see `ccmesh status`)");
  } else if (kind == CommandKind::kWatch) {
    options.add_options()("session", po::value<std::string>()->value_name("NAME"),
                          "only the events of this session")(
        "pool", po::value<std::string>()->value_name("NAME"),
        "only the events of this pool and its members");
  } else if (kind == CommandKind::kStart || kind == CommandKind::kFork) {
    addStartFlags(options);
  } else if (isPoolCommand(kind)) {
    addPoolFlags(kind, options);
  }
  return options;
}

std::string generalHelp() {
  std::ostringstream out;
  out << "Usage: ccmesh [--broker ENDPOINT] [--json] [--timeout MS] COMMAND [ARGS]\n\n"
      << "Talks to a ccmesh broker: runs prompts on named Claude Code sessions and manages "
         "them.\n\nCommands:\n";
  for (const auto& spec : kCommands) {
    std::string synopsis = std::string(spec.name) + " " + std::string(spec.arguments);
    out << "  " << synopsis << std::string(synopsis.size() < 34 ? 34 - synopsis.size() : 1, ' ')
        << spec.summary << "\n";
  }
  out << "\n"
      << globalOptions() << "\n"
      << "`ccmesh COMMAND --help` lists a command's own options.\n"
      << "Exit status: 0 success, 2 usage error, bad_request or duplicate_id, 3 not_found,\n"
      << "4 busy, 5 timeout, 1 any other error. Errors go to stderr as `error: CODE: message`.\n"
      << "With --json every command prints exactly one JSON object on stdout: "
         "{\"ok\":true,...}\nwith the result's fields, or "
         "{\"ok\":false,\"error\":{\"code\",\"message\",\"partial\"}}.\n";
  return out.str();
}

std::string commandHelp(const CommandSpec& spec) {
  std::ostringstream out;
  std::string summary(spec.summary);
  summary.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(summary.front())));
  out << "Usage: ccmesh [global options] " << spec.name << " " << spec.arguments << "\n\n"
      << summary << ".\n";
  if (spec.kind == CommandKind::kQuery) {
    out << "Prints the answer on stdout. PROMPT is one argument (quote it); put `--` before a\n"
           "prompt that starts with '-'. The deadline is --timeout.\n";
  } else if (spec.kind == CommandKind::kStart) {
    out << "Relative --cwd and --add-dir paths are made absolute against this directory.\n";
  } else if (spec.kind == CommandKind::kFork) {
    out << "NAME's CLI resumes SOURCE's conversation (the broker's copy of its transcript, on\n"
           "any worker) and writes it on under a new conversation id; SOURCE is untouched.\n"
           "NAME takes the session options given here, not SOURCE's. SOURCE must have had a\n"
           "turn (bad_request otherwise) and a whole conversation (else\n"
           "conversation_incomplete). Relative --cwd and --add-dir paths are made absolute\n"
           "against this directory.\n";
  } else if (spec.kind == CommandKind::kSet) {
    out << "Tells the session's CLI between turns (busy while a turn runs) and keeps the\n"
           "change in its options, so a restart or a move keeps it. Needs the admin role\n"
           "under CURVE; a worker refuses a permission mode it does not allow.\n";
  } else if (spec.kind == CommandKind::kUsage) {
    out << "Cost comes from the CLI's reports (total_cost_usd), tokens and turns from its\n"
           "results. Sessions and pools: each session's whole life, across restarts, moves,\n"
           "failovers and broker restarts. Workers and models: the turns this broker saw since\n"
           "it started.\n";
  } else if (spec.kind == CommandKind::kBudget) {
    out << "NAME is a session, else a pool. Once the cost its budget counts reaches the\n"
           "budget, the broker answers its queries budget_exhausted at once. A pool's budget\n"
           "counts its members' costs together. Applied in the order --set, --add, --reset;\n"
           "with none of them, only shows the budget. Needs the admin role under CURVE.\n";
  } else if (spec.kind == CommandKind::kMove) {
    out << "Prompts queued there wait and follow; a running turn ends with cancelled. The\n"
           "session's cwd must exist on WORKER (else it is held FAILED there). Files the CLI\n"
           "wrote in its cwd do not travel. Needs the admin role under CURVE.\n";
  } else if (spec.kind == CommandKind::kWatch) {
    out << "One line per event: its number, time, type and what happened. With --json, one\n"
           "JSON object per line instead: seq, time, time_ms, type, text and the event's own\n"
           "fields. Runs until Ctrl-C (exit 0), or until the broker cuts off a watcher that\n"
           "does not keep up (busy, exit 4) or is lost (unavailable, exit 1). Allowed to the\n"
           "query role under CURVE.\n";
  } else if (spec.kind == CommandKind::kTranscript) {
    out << "Prints the user and assistant turns; --json adds them as `turns` with the sizes.\n";
  } else if (spec.kind == CommandKind::kKeygen) {
    out << "NAME may include a directory. The secret file gets mode 0600; neither file is\n"
           "overwritten. Put the public key in the broker's --clients-allow or --workers-allow\n"
           "file; give the secret to the client or worker (--curve-secret). See "
           "docs/SECURITY.md.\n";
  }
  out << poolCommandNotes(spec.kind);
  auto own = commandOptions(spec.kind);
  out << "\n";
  if (!own.options().empty()) out << own << "\n";
  out << globalOptions();
  return out.str();
}

// `ccmesh pool --help`: the pool commands.
std::string poolHelp() {
  std::ostringstream out;
  out << "Usage: ccmesh [global options] pool SUBCOMMAND [ARGS]\n\n"
      << "Pools balance prompts over groups of sessions, in the broker, so every client shares\n"
      << "one rotation and one view of who is busy.\n\nSubcommands:\n";
  for (const auto& spec : kCommands) {
    if (!isPoolCommand(spec.kind)) continue;
    std::string synopsis(spec.name);
    if (!spec.arguments.empty()) synopsis += " " + std::string(spec.arguments);
    out << "  " << synopsis << "\n      " << spec.summary << "\n";
  }
  out << "\n`ccmesh pool SUBCOMMAND --help` lists a subcommand's options.\n";
  return out.str();
}

// Finds the command word: the first positional argument, whatever options surround it
// (`pool SUBCOMMAND`: both words). Nothing when there is none or the line does not parse
// (pass 2 then reports why).
std::optional<std::string> findCommandWord(const std::vector<std::string>& args) {
  po::options_description scan = globalOptions();
  scan.add_options()("command", po::value<std::string>())("rest",
                                                          po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add("command", 1).add("rest", -1);
  try {
    auto parsed = po::command_line_parser(args)
                      .options(scan)
                      .positional(positional)
                      .style(parserStyle())
                      .allow_unregistered()
                      .run();
    std::optional<std::string> word;
    for (const auto& option : parsed.options) {
      if (option.value.empty()) continue;
      if (option.string_key == "command") {
        word = option.value.front();
      } else if (option.string_key == "rest" && word == "pool") {
        return "pool " + option.value.front();  // `pool SUBCOMMAND` is one command
      }
    }
    return word;
  } catch (const po::error&) {
  }
  return std::nullopt;
}

}  // namespace

Expected<Command, UsageError> CommandLine::parse(const std::vector<std::string>& args,
                                                 const CommandLineContext& context) {
  const bool json = std::find(args.begin(), args.end(), "--json") != args.end();
  auto usage = [json](std::string message) { return UsageError{std::move(message), json}; };

  // Pass 1 finds the command; pass 2 parses everything knowing that command's options.
  auto word = findCommandWord(args);
  const CommandSpec* spec = nullptr;
  if (word == "pool") {
    Command help;
    help.text = poolHelp();
    if (std::find(args.begin(), args.end(), "--help") != args.end() ||
        std::find(args.begin(), args.end(), "-h") != args.end()) {
      return help;
    }
    return usage("pool: missing SUBCOMMAND (see ccmesh pool --help)");
  }
  if (word) {
    spec = findCommand(*word);
    if (!spec) return usage("unknown command '" + *word + "' (see ccmesh --help)");
  }
  po::options_description all = globalOptions();
  po::positional_options_description positional;
  all.add_options()("command", po::value<std::string>());
  positional.add("command", 1);
  if (spec) {
    all.add(commandOptions(spec->kind));
    if (isPoolCommand(spec->kind)) {
      all.add_options()("subcommand", po::value<std::string>());
      positional.add("subcommand", 1);
    }
    if (spec->kind == CommandKind::kFork) {
      all.add_options()("source", po::value<std::string>());
      positional.add("source", 1);
    }
    if (spec->arguments.starts_with("NAME") || spec->kind == CommandKind::kFork) {
      all.add_options()("name", po::value<std::string>());
      positional.add("name", 1);
    }
    if (spec->kind == CommandKind::kQuery) {
      all.add_options()("prompt", po::value<std::string>());
      positional.add("prompt", 1);
    }
    addPoolPositionals(spec->kind, all, positional);
  }

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args)
                  .options(all)
                  .positional(positional)
                  .style(parserStyle())
                  .run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::string see = spec ? "ccmesh " + std::string(spec->name) + " --help" : "ccmesh --help";
    return usage(std::string(e.what()) + " (see " + see + ")");
  }

  Command command;
  if (vm.count("version")) {
    command.text = std::string("ccmesh ") + kVersion + "\n";
    return command;
  }
  if (vm.count("help")) {
    command.text = spec ? commandHelp(*spec) : generalHelp();
    return command;
  }
  if (!spec) return usage("no command given (see ccmesh --help)");

  command.kind = spec->kind;
  command.json = vm["json"].as<bool>();
  if (vm.count("broker")) {
    command.broker = vm["broker"].as<std::string>();
  } else {
    command.broker = context.broker_from_environment.value_or(std::string(kDefaultBroker));
  }
  auto file_option = [&](const char* name, const std::optional<std::string>& from_environment) {
    return vm.count(name) ? vm[name].as<std::string>() : from_environment.value_or("");
  };
  command.curve_server_key_file =
      file_option("curve-server-key", context.curve_server_key_from_environment);
  command.curve_secret_file = file_option("curve-secret", context.curve_secret_from_environment);
  const int64_t timeout_ms = vm["timeout"].as<int64_t>();
  if (timeout_ms <= 0) return usage("--timeout must be a positive number of milliseconds");
  command.timeout = Millis{timeout_ms};
  if (!vm["timeout"].defaulted()) command.query_timeout = command.timeout;

  const std::string see = " (see ccmesh " + std::string(spec->name) + " --help)";
  if (spec->kind == CommandKind::kFork) {
    if (!vm.count("source")) return usage("fork: missing SOURCE" + see);
    command.fork_of = vm["source"].as<std::string>();
  }
  if (all.find_nothrow("name", false) != nullptr) {
    if (!vm.count("name")) return usage(std::string(spec->name) + ": missing NAME" + see);
    command.session = vm["name"].as<std::string>();
  }
  if (spec->kind == CommandKind::kQuery) {
    if (!vm.count("prompt")) return usage("query: missing PROMPT" + see);
    command.prompt = vm["prompt"].as<std::string>();
    command.stream = vm["stream"].as<bool>();
    if (auto error = readApproval(vm, command.approval)) return usage("query: " + *error + see);
  } else if (spec->kind == CommandKind::kRestart) {
    command.keep_history = vm["keep-history"].as<bool>();
    command.from_cut = vm["from-cut"].as<bool>();
  } else if (spec->kind == CommandKind::kSet) {
    if (vm.count("model")) command.options.model = vm["model"].as<std::string>();
    if (vm.count("permission-mode")) {
      command.options.permission_mode = vm["permission-mode"].as<std::string>();
    }
    if (command.options.model.empty() && command.options.permission_mode.empty()) {
      return usage("set: give --model, --permission-mode, or both" + see);
    }
    if (auto error = command.options.validate()) return usage(error->message);
  } else if (spec->kind == CommandKind::kUsage) {
    command.usage_by = vm["by"].as<std::string>();
    const auto& by = command.usage_by;
    if (by != "session" && by != "pool" && by != "worker" && by != "model") {
      return usage("usage: --by must be session, pool, worker or model" + see);
    }
  } else if (spec->kind == CommandKind::kBudget) {
    if (vm.count("set")) {
      command.budget_set = vm["set"].as<double>();
      if (!std::isfinite(command.budget_set) || command.budget_set < 0) {
        return usage("budget: --set must be a non-negative amount of USD" + see);
      }
    }
    if (vm.count("add")) {
      command.budget_add = vm["add"].as<double>();
      if (!std::isfinite(command.budget_add) || command.budget_add <= 0) {
        return usage("budget: --add must be a positive amount of USD" + see);
      }
    }
    command.budget_reset = vm["reset"].as<bool>();
  } else if (spec->kind == CommandKind::kMove) {
    if (!vm.count("to")) return usage("move: missing --to WORKER" + see);
    command.worker = vm["to"].as<std::string>();
  } else if (spec->kind == CommandKind::kWatch) {
    if (vm.count("session")) command.session = vm["session"].as<std::string>();
    if (vm.count("pool")) command.watch_pool = vm["pool"].as<std::string>();
  } else if (spec->kind == CommandKind::kStart || spec->kind == CommandKind::kFork) {
    if (auto error = readStartFlags(vm, context.working_directory, command.options))
      return usage(*error);
  } else if (isPoolCommand(spec->kind)) {
    if (auto error = readPoolFlags(vm, context.working_directory, command)) {
      return usage(std::string(spec->name) + ": " + *error + see);
    }
  }
  return command;
}

CommandLineContext CommandLine::processContext() {
  CommandLineContext context;
  auto environment = [](const char* option) -> std::optional<std::string> {
    const char* value = std::getenv(ConfigLoader::environmentName(option).c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
  context.broker_from_environment = environment("broker");
  context.curve_server_key_from_environment = environment("curve-server-key");
  context.curve_secret_from_environment = environment("curve-secret");
  std::error_code error;
  context.working_directory = std::filesystem::current_path(error).string();
  return context;
}

}  // namespace ccmesh::client
