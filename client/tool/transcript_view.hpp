#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "json_output.hpp"

namespace ccmesh::client {

// One turn of a conversation as `ccmesh transcript` shows it.
struct TranscriptTurn {
  std::string role;       // "user" or "assistant"
  std::string text;       // its text blocks joined (tool calls and results left out)
  std::string timestamp;  // the entry's timestamp as the CLI wrote it, if any
};

// The user and assistant turns of a transcript (JSONL as the CLI writes it): entries that
// do not parse, carry no text (tool results, system entries, ...) are skipped; consecutive
// assistant entries of one message (same message.id) are joined.
class TranscriptView {
 public:
  static std::vector<TranscriptTurn> turns(std::string_view jsonl);

  // "role: text" per turn.
  static void print(std::ostream& out, const std::vector<TranscriptTurn>& turns);
  // [{"role","text","timestamp"}...]
  static Json toJson(const std::vector<TranscriptTurn>& turns);
};

}  // namespace ccmesh::client
