// Where the worker writes a transcript that came with a moved session: where the CLI reads
// it for --resume.
#include "ccmesh/worker/conversation_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ccmesh::worker {
namespace {

TEST(ConversationFile, FollowsClaudeConfigDirElseHome) {
  EXPECT_EQ(ConversationFile::pathFor({"HOME=/home/u", "CLAUDE_CONFIG_DIR=/cfg"}, "/", "id1"),
            std::filesystem::path("/cfg/projects/-/id1.jsonl"));
  EXPECT_EQ(ConversationFile::pathFor({"HOME=/home/u", "CLAUDE_CONFIG_DIR="}, "/", "id1"),
            std::filesystem::path("/home/u/.claude/projects/-/id1.jsonl"));
}

TEST(ConversationFile, SlugReplacesEveryCharacterOutsideLettersAndDigits) {
  EXPECT_EQ(ConversationFile::projectSlug("/srv/my_project.v2"), "-srv-my-project-v2");
  EXPECT_FALSE(ConversationFile::usableSessionId("../x"));
  EXPECT_FALSE(ConversationFile::usableSessionId(""));
  EXPECT_TRUE(ConversationFile::usableSessionId("0f8fad5b-d9cb-469f-a165-70867728950e"));
}

TEST(ConversationFile, WritesTheWholeTranscriptCreatingDirectories) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ccmesh-conversation-" + std::to_string(::getpid()));
  const auto path = ConversationFile::pathFor({"CLAUDE_CONFIG_DIR=" + dir.string()}, "/", "c1");
  ASSERT_FALSE(ConversationFile::write(path, "{\"a\":1}\n{\"b\":2}"));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "{\"a\":1}\n{\"b\":2}\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccmesh::worker
