#pragma once

#include <functional>
#include <istream>
#include <ostream>

#include "ccmesh/client/client.hpp"
#include "command_line.hpp"
#include "json_output.hpp"

namespace ccmesh::client {

// Runs one parsed `ccmesh` command on a Client and prints its outcome: text for people, or
// exactly one JSON object with --json. Returns the process exit status.
class CommandRunner {
 public:
  // `in` answers --approve's questions.
  CommandRunner(std::ostream& out, std::ostream& err, std::istream& in)
      : out_(out), err_(err), in_(in) {}

  // Runs `command`; a query or a waiting checkout polls should_cancel (may be empty) to
  // cancel on Ctrl-C.
  int run(const Command& command, Client& client, const std::function<bool()>& should_cancel);

  // `ccmesh keygen NAME`: writes NAME.key and NAME.pub, prints the public key and the
  // allow-list lines to use. Needs no broker.
  int runKeygen(const Command& command);

  // Prints a usage error (as bad_request) and returns its exit status, 2.
  int reportUsage(const UsageError& error);

  // Prints a failed request (stderr, or one JSON object on stdout) and returns its exit
  // status; partial_shown: the partial answer is already on stdout.
  int report(const ReplyError& error, bool json, bool partial_shown = false);

  // The exit status for an error code: 2 bad_request, 3 not_found, 4 busy, 5 timeout, else 1.
  static int exitStatus(ErrorCode code);

 private:
  // watch: prints events until should_cancel says stop (then exits 0).
  int runWatch(const Command& command, Client& client, const std::function<bool()>& should_cancel);
  // query and pool query.
  int runQuery(const Command& command, Client& client, const std::function<bool()>& should_cancel);
  // The other pool commands (command_runner_pools.cpp); a waiting checkout polls
  // should_cancel (may be empty) to withdraw on Ctrl-C.
  int runPool(const Command& command, Client& client, const std::function<bool()>& should_cancel);

  // Prints a finished request: its error through report(), or its value as the JSON fields
  // `to_fields` makes of it (with --json) or through `print_human`. Returns the exit status.
  template <class T, class ToFields, class PrintHuman>
  int finish(const Reply<T>& reply, bool json, ToFields&& to_fields, PrintHuman&& print_human) {
    if (!reply.ok()) return report(reply.error(), json);
    if (json) {
      out_ << successJson(to_fields(reply.value())).dump() << "\n";
    } else {
      print_human(reply.value());
    }
    out_.flush();
    return 0;
  }

  std::ostream& out_;  // results (stdout)
  std::ostream& err_;  // errors (stderr)
  std::istream& in_;   // answers to tool questions (stdin)
};

}  // namespace ccmesh::client
