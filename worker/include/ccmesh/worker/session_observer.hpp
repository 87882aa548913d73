#pragma once

#include <cstdint>

#include "ccmesh/common/permission_messages.hpp"
#include "ccmesh/common/replies.hpp"
#include "ccmesh/common/worker_messages.hpp"

namespace ccmesh::worker {

class Session;

// Where a Session sends what the broker must hear: its state changes and the replies to
// the requests it was given. Every request given to a session ends with exactly one of
// onQueryResult, onError or onAck (for ids other than 0).
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  // A field of the session's SessionUpdate changed.
  virtual void onSessionChanged(const msg::SessionUpdate& update) = 0;
  // A query's prompt was written to the CLI.
  virtual void onDelivered(uint64_t id) = 0;
  // A streamed piece of an answer.
  virtual void onEvent(const msg::Event& event) = 0;
  // Tool approval: a question for the client of a running query, and how each question was
  // decided (docs/SESSIONS.md "Tool approval").
  virtual void onPermissionRequest(const msg::PermissionRequest& request) { (void)request; }
  virtual void onPermissionDecision(const msg::PermissionDecision& decision) { (void)decision; }
  // Final replies.
  virtual void onQueryResult(const msg::QueryResult& result) = 0;
  virtual void onError(const msg::ErrorReply& error) = 0;
  virtual void onAck(const msg::Ack& ack) = 0;
  // The final reply of a `context` request.
  virtual void onContext(const msg::ContextResult& result) { (void)result; }
  // Transcript entries the CLI mirrored, in order (docs/SESSIONS.md "What survives which
  // failure").
  virtual void onTranscript(msg::TranscriptAppend batch) { (void)batch; }
  // The session needs the broker's copy of its conversation (answered by
  // Session::onTranscriptSeed).
  virtual void onTranscriptFetch(const msg::TranscriptFetch& fetch) { (void)fetch; }

  // The live budget (docs/SESSIONS.md "Idle sessions"). A session asks before it spawns a
  // CLI: true means it may now; false means it waits until the observer calls
  // Session::grantSlot(). It gives the slot back (or stops waiting) once it has no CLI.
  // Without a budget every request is granted.
  virtual bool acquireLiveSlot(Session& session) {
    (void)session;
    return true;
  }
  virtual void onLiveSlotReleased(Session& session) { (void)session; }
  // After acquireLiveSlot said false: true if the session only waits for its turn to spawn
  // (spawns are paced so that a burst of them cannot stall the worker's loop), not for a
  // slot of the live budget. It keeps its state meanwhile.
  virtual bool waitsForSpawnTurn(const Session& session) const {
    (void)session;
    return false;
  }
  // True while the session waits for its turn to spawn or for a live slot: the owner of the
  // waiting lines is the only one who knows (the session keeps how it will start).
  virtual bool waitsForSlot(const Session& session) const {
    (void)session;
    return false;
  }
};

}  // namespace ccmesh::worker
