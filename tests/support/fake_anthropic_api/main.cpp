// ccmesh-fake-anthropic-api: the fake Messages API as a program, for trying the real
// Claude Code CLI by hand and for benchmarks. Runs until SIGINT or SIGTERM.
//
//   ccmesh-fake-anthropic-api --port-file /tmp/api.port &
//   export ANTHROPIC_BASE_URL=http://127.0.0.1:$(cat /tmp/api.port) ANTHROPIC_API_KEY=test
//   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 claude -p "hello"

#include <signal.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "fake_anthropic_api/fake_anthropic_api.hpp"

namespace po = boost::program_options;

namespace {

// Writes the port so that whoever started us can read it once the file appears whole.
void writePortFile(const std::string& path, int port) {
  const std::string partial = path + ".partial";
  {
    std::ofstream file(partial, std::ios::trunc);
    file << port << "\n";
    if (!file) throw std::runtime_error("cannot write " + partial);
  }
  std::filesystem::rename(partial, path);
}

int run(int argc, char** argv) {
  po::options_description options(
      "Usage: ccmesh-fake-anthropic-api [options]\n\n"
      "A local fake of the Anthropic Messages API (POST /v1/messages, streaming or not) with\n"
      "deterministic answers: 'reply N to: <last prompt>'. Listens on 127.0.0.1, a free port.\n\n"
      "Options");
  // clang-format off
  options.add_options()
      ("help,h", "show this help")
      ("port-file", po::value<std::string>()->value_name("FILE"),
       "write the bound port to FILE once listening")
      ("delta-delay-ms", po::value<uint64_t>()->default_value(0)->value_name("N"),
       "pause before each streamed delta")
      ("fail-next", po::value<std::size_t>()->default_value(0)->value_name("K"),
       "answer the first K requests with an HTTP error")
      ("fail-status", po::value<int>()->default_value(529)->value_name("STATUS"),
       "the status of those errors: 429, 500, 529, ...")
      ("tool-marker", po::value<std::string>()->value_name("TEXT"),
       "a prompt containing TEXT is answered with a Bash tool call")
      ("tool-command", po::value<std::string>()->value_name("COMMAND"),
       "the command of that tool call");
  // clang-format on
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }

  // Signals are taken by sigwait below, not by whichever server thread they hit.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ccmesh::test::FakeAnthropicApi api;
  api.setDeltaDelay(ccmesh::Millis(vm["delta-delay-ms"].as<uint64_t>()));
  if (const auto count = vm["fail-next"].as<std::size_t>(); count > 0) {
    api.failNext(count, vm["fail-status"].as<int>());
  }
  ccmesh::test::ReplyRules rules;
  if (vm.count("tool-marker")) rules.tool_marker = vm["tool-marker"].as<std::string>();
  if (vm.count("tool-command")) rules.tool_command = vm["tool-command"].as<std::string>();
  api.setReplyRules(rules);
  if (vm.count("port-file")) writePortFile(vm["port-file"].as<std::string>(), api.port());
  std::cout << "listening on " << api.baseUrl() << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "served " << api.requestCount() << " requests" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "ccmesh-fake-anthropic-api: %s\n", error.what());
    return 1;
  }
}
