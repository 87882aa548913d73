// BrokerCore, continued: forks (docs/SESSIONS.md "Forks"). A fork is a new session whose
// CLI starts with --resume=<source's conversation> --fork-session, on any worker: the broker's
// copy of the source's transcript travels in the assign as a moved session's does, and the
// fork's CLI writes the conversation on under an id of its own. The source is not touched.
#include <algorithm>

#include "core/broker_core.hpp"

namespace ccmesh::broker {
namespace {

// A transcript entry the CLI wrote for a user's message: a conversation with none has had
// no turn to continue.
bool hasUserEntry(const Transcript& transcript) {
  return std::any_of(transcript.entries.begin(), transcript.entries.end(),
                     [](const std::string& entry) {
                       return entry.find("\"type\":\"user\"") != std::string::npos;
                     });
}

}  // namespace

Expected<ForkOrigin, Error> BrokerCore::forkOrigin(const std::string& source) {
  if (auto bad = validateSessionName(source)) {
    return Error{ErrorCode::kBadRequest, "fork_of: " + bad->message};
  }
  const auto* entry = sessions_.find(source);
  if (entry == nullptr || entry->terminating) {
    if (entry == nullptr && recovery_.recovering(clock_.now())) {
      return Error{ErrorCode::kUnavailable, recoveringMessage("session " + source)};
    }
    return Error{ErrorCode::kNotFound, "no session named " + source + " to fork"};
  }
  if (entry->fork) return *entry->fork;  // a fork with no turn yet: the same conversation
  if (!entry->cut.empty()) {
    return Error{ErrorCode::kConversationIncomplete,
                 "session " + source + " cannot be forked: " + entry->cut};
  }
  const Transcript* transcript = transcripts_->get(source);
  const bool current = transcript != nullptr && !transcript->session_id.empty() &&
                       (entry->session_id.empty() || entry->session_id == transcript->session_id);
  if (!current || !hasUserEntry(*transcript)) {
    if (entry->turns == 0) {
      return Error{ErrorCode::kBadRequest, "session " + source +
                                               " has no turn yet: there is no conversation to "
                                               "fork (start the new session instead)"};
    }
    return Error{ErrorCode::kConversationIncomplete,
                 "session " + source +
                     " cannot be forked: the broker holds no copy of its current conversation"};
  }
  if (!transcript->complete()) {
    return Error{ErrorCode::kConversationIncomplete,
                 "session " + source + " cannot be forked: " + transcript->cutReason()};
  }
  return ForkOrigin{source, transcript->session_id,
                    std::make_shared<const std::string>(TranscriptStore::jsonl(*transcript))};
}

void BrokerCore::forkIn(msg::Assign& assign, const ForkOrigin& origin) {
  assign.session_id = origin.session_id;
  assign.transcript = *origin.transcript;
  assign.fork = true;
}

}  // namespace ccmesh::broker
