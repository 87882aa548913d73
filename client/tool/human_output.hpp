#pragma once

#include <ostream>
#include <vector>

#include "ccmesh/client/client.hpp"
#include "ccmesh/common/pool_messages.hpp"
#include "ccmesh/common/replies.hpp"

// What `ccmesh` prints for people (without --json): one function per result shape.
namespace ccmesh::client {

// `started NAME on WORKER (generation G, state S)`; verb is started/terminated/restarted.
void printAck(std::ostream& out, const char* verb, const msg::Ack& ack);

// `key: value` lines, config as one JSON object.
void printInfo(std::ostream& out, const msg::SessionInfo& info);

// A table: NAME  STATE  WORKER  GEN  QUEUE  PID.
void printList(std::ostream& out, const std::vector<msg::SessionInfo>& sessions);

// The number of sessions.
void printCount(std::ostream& out, const msg::CountResult& count);

// The workers as a table, then the broker's totals.
void printStatus(std::ostream& out, const msg::StatusResult& status);

// `pong from broker VERSION (up N s)`.
void printPing(std::ostream& out, const msg::PingResult& ping);
// "session s: 2167 of 1000000 tokens (0 %), model M", or the CLI's answer as it came.
void printContext(std::ostream& out, const msg::ContextResult& context);

// A table of `usage` rows (BUDGET and SPENT for sessions and pools), then the total.
void printUsage(std::ostream& out, const msg::UsageResult& usage);

// `session NAME: budget 0.0500 USD, 0.0200 USD spent, 0.0300 USD left`.
void printBudget(std::ostream& out, const msg::BudgetResult& budget);

// A pool: a header line (`VERB pool NAME`, when verb is not null), its totals, then its
// members as a table: MEMBER  STATE  WORKER  TURNS  SERVED  QUEUE  CHECKED_OUT.
void printPoolInfo(std::ostream& out, const char* verb, const msg::PoolInfo& pool);

// A table: POOL  STRATEGY  SIZE  IDLE  CHECKED_OUT  WAITING  RECLAIMS.
void printPoolList(std::ostream& out, const std::vector<msg::PoolInfo>& pools);

// `checked out MEMBER of pool NAME on WORKER (lease L, N ms)`.
void printCheckout(std::ostream& out, const msg::CheckoutResult& checkout);

// `answered by MEMBER of pool NAME on WORKER`, after a pool query's answer.
void printAnsweredBy(std::ostream& out, const msg::QueryResult& result);

// `error: CODE: message`, then the partial answer if there is one and it was not shown.
void printError(std::ostream& err, const ReplyError& error, bool partial_shown);

}  // namespace ccmesh::client
