// ccmesh: the command-line client of a ccmesh broker. Parses the command line, connects,
// runs one command and exits with its status (see `ccmesh --help`).
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cancel_on_interrupt.hpp"
#include "ccmesh/client/client.hpp"
#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/curve_keys.hpp"
#include "command_line.hpp"
#include "command_runner.hpp"

int main(int argc, char** argv) {
  using namespace ccmesh::client;
  CommandRunner runner(std::cout, std::cerr, std::cin);
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = CommandLine::parse(args, CommandLine::processContext());
  if (!parsed.ok()) return runner.reportUsage(parsed.error());
  const Command& command = parsed.value();
  try {
    if (command.kind == CommandKind::kHelp) {
      std::cout << command.text;
      return 0;
    }
    if (command.kind == CommandKind::kKeygen) return runner.runKeygen(command);
    ClientOptions options{command.broker, command.timeout};
    if (!command.curve_server_key_file.empty() || !command.curve_secret_file.empty()) {
      options.curve =
          ccmesh::loadCurveClientKeys(command.curve_server_key_file, command.curve_secret_file);
    }
    Client client(options);
    // Ctrl-C during a query cancels it (the query then ends with `cancelled`); during a
    // checkout waiting for a member, it withdraws the checkout; it ends a watch.
    std::optional<CancelOnInterrupt> interrupt;
    std::function<bool()> should_cancel;
    if (command.kind == CommandKind::kQuery || command.kind == CommandKind::kPoolQuery ||
        command.kind == CommandKind::kPoolCheckout || command.kind == CommandKind::kWatch) {
      interrupt.emplace();
      should_cancel = [&interrupt] { return interrupt->requested(); };
    }
    return runner.run(command, client, should_cancel);
  } catch (const ccmesh::ConfigError& e) {
    return runner.reportUsage(UsageError{e.what(), command.json});
  } catch (const std::exception& e) {
    // Not expected (Client reports failures as values), but still reported like one.
    return runner.report(ReplyError{ccmesh::ErrorCode::kInternal, "internal", e.what(), ""},
                         command.json);
  }
}
