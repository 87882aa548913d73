// BrokerCore: tool approval. A session's CLI asks whether a tool may run; its worker sends
// the question here, the broker passes it to the client of the running query, and the
// client's answer back to the worker, which decides (docs/PROTOCOL.md "Tool approval").
#include "core/broker_core.hpp"
#include "reply_rewrite.hpp"

namespace ccmesh::broker {

void BrokerCore::relayPermissionRequest(const std::string& worker_id, const Envelope& envelope,
                                        const msg::PermissionRequest& question) {
  auto* request = requestFrom(worker_id, question.id, "permission_request");
  if (request == nullptr || request->kind != RequestKind::kQuery) return;
  if (request->client_gone) {
    // Nobody is left to ask; the worker would otherwise wait out permission_timeout_ms.
    toWorkerBody(worker_id, MessageType::kPermissionReply,
                 msg::PermissionReply{question.id,
                                      question.request,
                                      std::string(msg::kDeny),
                                      {},
                                      "ccmesh: the client of this query is gone",
                                      "broker"});
    return;
  }
  events_.emit(event::PermissionAsked{request->id, request->session, request->pool, worker_id,
                                      question.tool_name, question.request});
  sender_.toClient(request->client, MessageType::kPermissionRequest,
                   rewriteId(envelope.body.get(), request->client_id));
}

void BrokerCore::answerPermission(const std::string& client, const std::string& caller,
                                  msg::PermissionReply reply) {
  auto* request = requests_.findByClient(client, reply.id);
  if (request == nullptr || request->kind != RequestKind::kQuery || request->worker.empty() ||
      request->client_gone) {
    // The query ended (its questions were denied then) or never was: nothing to answer.
    logger_->debug("[client {}] permission_reply for query {} that is not running", caller,
                   reply.id);
    return;
  }
  reply.id = request->id;
  reply.decided_by = caller;
  toWorkerBody(request->worker, MessageType::kPermissionReply, reply);
}

void BrokerCore::notePermissionDecision(const std::string& worker_id,
                                        const msg::PermissionDecision& decision) {
  const auto* entry = sessions_.find(decision.session);
  if (entry == nullptr || entry->worker != worker_id) {
    refused(event::Refusal::kStale, worker_id);
    return;
  }
  const bool allowed = decision.behavior == msg::kAllow;
  logger_->info("[session {}] {} {} for query {}: decided by {}", decision.session,
                allowed ? "allowed" : "denied", decision.tool_name, decision.id,
                decision.decided_by);
  events_.emit(event::PermissionDecided{decision.id, decision.session, worker_id,
                                        decision.tool_name, decision.request, allowed,
                                        decision.decided_by, decision.message});
}

}  // namespace ccmesh::broker
