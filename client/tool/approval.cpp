#include "approval.hpp"

#include <algorithm>
#include <cctype>

namespace po = boost::program_options;

namespace ccmesh::client {
namespace {

// The longest tool input shown when asking; the rest is elided.
constexpr std::size_t kShownInputBytes = 2000;

void show(const msg::PermissionRequest& question, std::ostream& err) {
  std::string input = question.input;
  if (input.size() > kShownInputBytes) {
    input = input.substr(0, kShownInputBytes) + "... (" + std::to_string(question.input.size()) +
            " bytes)";
  }
  err << "session " << question.session << " asks to run " << question.tool_name << "\n"
      << "  input: " << input << "\n";
  if (!question.reason.empty()) err << "  reason: " << question.reason << "\n";
}

bool yes(std::string line) {
  std::transform(line.begin(), line.end(), line.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  line.erase(0, line.find_first_not_of(" \t\r"));
  line.erase(line.find_last_not_of(" \t\r") + 1);
  return line == "y" || line == "yes";
}

}  // namespace

void addApprovalFlags(po::options_description& options) {
  // clang-format off
  options.add_options()
      ("approve", po::bool_switch(),
       "ask on the terminal (y/n) whether each tool the session asks about may run")
      ("approve-all", po::bool_switch(), "allow every tool the session asks about")
      ("deny-all", po::bool_switch(),
       "deny every tool the session asks about (the default, which adds a note on stderr)");
  // clang-format on
}

std::optional<std::string> readApproval(const po::variables_map& vm, Approval& approval) {
  const bool ask = vm["approve"].as<bool>();
  const bool all = vm["approve-all"].as<bool>();
  const bool none = vm["deny-all"].as<bool>();
  if (int(ask) + int(all) + int(none) > 1) {
    return "--approve, --approve-all and --deny-all exclude each other";
  }
  approval = ask    ? Approval::kAsk
             : all  ? Approval::kAll
             : none ? Approval::kDenyAll
                    : Approval::kNone;
  return std::nullopt;
}

PermissionHandler approvalHandler(Approval approval, std::istream& in, std::ostream& err) {
  switch (approval) {
    case Approval::kAll:
      return [](const msg::PermissionRequest&) { return PermissionAnswer::allowed(); };
    case Approval::kDenyAll:
      return [](const msg::PermissionRequest&) {
        return PermissionAnswer::denied("denied by the user (--deny-all)");
      };
    case Approval::kAsk:
      return [&in, &err](const msg::PermissionRequest& question) {
        show(question, err);
        err << "allow? [y/N] ";
        err.flush();
        std::string line;
        if (!std::getline(in, line)) {
          err << "\n";
          return PermissionAnswer::denied("the user gave no answer");
        }
        return yes(line) ? PermissionAnswer::allowed()
                         : PermissionAnswer::denied("denied by the user");
      };
    case Approval::kNone:
      break;
  }
  return [&err](const msg::PermissionRequest& question) {
    err << "ccmesh: denied " << question.tool_name << " on session " << question.session
        << " (run the query with --approve to decide, or --approve-all)\n";
    err.flush();
    return PermissionAnswer::denied("denied: the caller answers no tool questions");
  };
}

}  // namespace ccmesh::client
