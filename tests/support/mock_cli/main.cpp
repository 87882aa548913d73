// ccmesh-mock-cli: a deterministic test double of `claude -p --input-format stream-json
// --output-format stream-json --verbose`. See mock_cli_options.cpp for the usage text.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "mock_cli_options.hpp"
#include "mock_ids.hpp"
#include "mock_session.hpp"
#include "transcript_store.hpp"

namespace {

using ccmesh::mock_cli::MockCliOptions;

// Points closed standard descriptors at /dev/null, so that the transcript file can never be
// opened as fd 1 and receive what is meant for stdout.
void guardStandardDescriptors() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      int opened = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
      if (opened >= 0 && opened != fd) {
        ::dup2(opened, fd);
        ::close(opened);
      }
    }
  }
}

std::string currentDirectory() {
  std::error_code error;
  std::filesystem::path cwd = std::filesystem::current_path(error);
  if (error) return ".";
  std::filesystem::path resolved = std::filesystem::canonical(cwd, error);
  return error ? cwd.string() : resolved.string();
}

// A session id becomes a file name, so it must not be able to leave its directory.
bool usableSessionId(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos &&
         id.find('\0') == std::string::npos;
}

int runMockCli(int argc, char** argv) {
  MockCliOptions options = MockCliOptions::parse(argc, argv);
  if (options.show_help) {
    std::fputs(ccmesh::mock_cli::mockCliUsage(), stdout);
    return 0;
  }
  if (options.show_version) {
    std::puts("ccmesh-mock-cli " CCMESH_MOCK_CLI_VERSION);
    return 0;
  }
  bool resuming = !options.resume_id.empty();
  // As the real CLI: a resumed conversation keeps its id unless forked to a new one.
  bool forking = resuming && options.fork_session;
  if (resuming && !forking && !options.session_id.empty()) {
    std::fputs("Error: --session-id with --continue or --resume also needs --fork-session.\n",
               stderr);
    return 1;
  }
  std::string session_id = resuming && !forking          ? options.resume_id
                           : !options.session_id.empty() ? options.session_id
                                                         : ccmesh::mock_cli::newUuidV4();
  if (!usableSessionId(session_id) || (resuming && !usableSessionId(options.resume_id))) {
    std::fprintf(stderr, "Invalid session ID: %s\n",
                 (usableSessionId(session_id) ? options.resume_id : session_id).c_str());
    return 1;
  }
  std::string cwd = currentDirectory();
  ccmesh::mock_cli::TranscriptStore transcript(session_id, cwd);
  std::vector<std::string> history;
  if (resuming) {
    ccmesh::mock_cli::TranscriptStore resumed(options.resume_id, cwd);
    if (!resumed.exists()) {
      std::fprintf(stderr, "No conversation found with session ID: %s\n",
                   options.resume_id.c_str());
      return 1;
    }
    if (!forking) {
      history = transcript.loadPrompts();  // also where new entries chain on
    } else {
      // The history goes on under the new id, written (and mirrored) at the first prompt.
      history = resumed.loadPrompts();
      transcript.forkOnFirstPrompt(resumed.path());
    }
  }
  ccmesh::mock_cli::MockSession session(options, session_id, cwd, std::move(history), transcript);
  return session.run();
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  guardStandardDescriptors();
  try {
    return runMockCli(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "mock-cli: fatal: %s\n", error.what());
    return 1;
  }
}
