// Cost and budgets (docs/SESSIONS.md "Cost and budgets"): what sessions, pools, workers and
// models used, and the cluster-side budgets that refuse queries once they are spent.
#include <fmt/format.h>

#include <cmath>

#include "core/broker_core.hpp"

namespace ccmesh::broker {
namespace {

// A budget's figures as `budget` and `usage` show them.
msg::BudgetResult budgetFigures(std::string name, std::string kind, double budget, double spent) {
  msg::BudgetResult result;
  result.name = std::move(name);
  result.kind = std::move(kind);
  result.budget_usd = budget;
  result.spent_usd = spent;
  result.left_usd = budget > 0 ? std::max(0.0, budget - spent) : 0;
  result.exhausted = budget > 0 && spent >= budget;
  return result;
}

// What grew from `before` to `after` (each counter that did not grow: 0).
Usage growth(const Usage& before, const Usage& after) {
  Usage grown;
  grown.cost_usd = std::max(0.0, after.cost_usd - before.cost_usd);
  grown.input_tokens =
      after.input_tokens > before.input_tokens ? after.input_tokens - before.input_tokens : 0;
  grown.output_tokens =
      after.output_tokens > before.output_tokens ? after.output_tokens - before.output_tokens : 0;
  grown.turns = after.turns > before.turns ? after.turns - before.turns : 0;
  return grown;
}

// The budget after set, add and reset, as `request` asks (spent: what it counts now).
double newBudget(double budget, double spent, const msg::BudgetRequest& request) {
  if (request.set_usd >= 0) budget = request.set_usd;
  // Without a budget, --add gives the session (or pool) that much more to spend from now.
  if (request.add_usd > 0)
    budget = (budget > 0 ? budget : (request.reset ? 0 : spent)) + request.add_usd;
  return budget;
}

bool changes(const msg::BudgetRequest& request) {
  return request.set_usd >= 0 || request.add_usd > 0 || request.reset;
}

std::string usd(double amount) { return fmt::format("{:.4f} USD", amount); }

}  // namespace

void BrokerCore::takeUsage(SessionEntry& entry, const Usage& reported) {
  // A worker counts on from the usage its assign carried, so its totals only grow; a report
  // behind the broker's (an older copy's) changes nothing.
  if (reported.turns < entry.usage.turns) return;
  const Usage grown = growth(entry.usage, reported);
  const double counted_from = entry.usage.counted_from_usd;  // the broker's to change
  entry.usage = reported;
  entry.usage.counted_from_usd = counted_from;
  if (grown.turns == 0 && grown.cost_usd == 0) return;
  worker_usage_[entry.worker].add(grown);
  model_usage_[entry.options.model].add(grown);
}

std::optional<std::string> BrokerCore::budgetSpent(const SessionEntry& entry) {
  const double budget = entry.options.budget_usd;
  if (entry.budgetSpent()) {
    auto why = fmt::format("session {} has spent its budget: {} of {} (ccmesh budget {} --add USD)",
                           entry.name, usd(entry.usage.spentUsd()), usd(budget), entry.name);
    ++budget_refusals_;
    events_.emit(event::BudgetExhausted{entry.name, {}, why});
    return why;
  }
  if (const auto* pool_name = pools_.poolOf(entry.name)) {
    if (const auto* pool = pools_.find(*pool_name)) return poolBudgetSpent(*pool);
  }
  return std::nullopt;
}

std::optional<std::string> BrokerCore::poolBudgetSpent(const PoolEntry& pool) {
  const double budget = pool.options.pool_budget_usd;
  if (budget <= 0) return std::nullopt;
  const double spent = poolSpent(pool);
  if (spent < budget) return std::nullopt;
  auto why = fmt::format("pool {} has spent its budget: {} of {} (ccmesh budget {} --add USD)",
                         pool.name, usd(spent), usd(budget), pool.name);
  ++budget_refusals_;
  events_.emit(event::BudgetExhausted{{}, pool.name, why});
  return why;
}

Usage BrokerCore::poolUsage(const PoolEntry& pool) const {
  Usage total;
  for (const auto& member : pool.members) {
    if (const auto* entry = sessions_.find(member.name)) total.add(entry->usage);
  }
  return total;
}

double BrokerCore::poolSpent(const PoolEntry& pool) const {
  double spent = 0;
  for (const auto& member : pool.members) {
    if (const auto* entry = sessions_.find(member.name)) spent += entry->usage.spentUsd();
  }
  return spent;
}

Usage BrokerCore::workerUsage(const std::string& worker) const {
  auto it = worker_usage_.find(worker);
  return it == worker_usage_.end() ? Usage{} : it->second;
}

Usage BrokerCore::totalUsage() const {
  Usage total;
  for (const auto& [name, entry] : sessions_.entries()) total.add(entry.usage);
  return total;
}

void BrokerCore::usage(const std::string& client, const msg::UsageRequest& request) {
  msg::UsageResult result;
  result.id = request.id;
  result.by = request.by;
  result.total = totalUsage();
  if (request.by == "session") {
    for (const auto& [name, entry] : sessions_.entries()) {
      result.rows.push_back(
          {name, entry.usage, 1, entry.options.budget_usd, entry.usage.spentUsd()});
    }
  } else if (request.by == "pool") {
    for (const auto& [name, pool] : pools_.entries()) {
      result.rows.push_back({name, poolUsage(pool), static_cast<uint32_t>(pool.members.size()),
                             pool.options.pool_budget_usd, poolSpent(pool)});
    }
  } else if (request.by == "worker" || request.by == "model") {
    const auto& table = request.by == "worker" ? worker_usage_ : model_usage_;
    for (const auto& [name, used] : table) result.rows.push_back({name, used, 0, 0, 0});
    // Sessions each row counts: those on the worker now, or with that model now.
    for (auto& row : result.rows) {
      for (const auto& [name, entry] : sessions_.entries()) {
        const std::string& key = request.by == "worker" ? entry.worker : entry.options.model;
        if (key == row.name) ++row.sessions;
      }
    }
  } else {
    return replyError(
        client, request.id, ErrorCode::kBadRequest,
        "by: expected session, pool, worker or model, got '" + request.by.substr(0, 64) + "'");
  }
  result.uptime_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<Millis>(clock_.now() - started_at_).count());
  reply(client, MessageType::kResult, result);
}

void BrokerCore::budget(const std::string& client, const msg::BudgetRequest& request) {
  const bool bad_add = !std::isfinite(request.add_usd) || request.add_usd < 0;
  const bool bad_set = !std::isfinite(request.set_usd);
  if (bad_add || bad_set) {
    return replyError(client, request.id, ErrorCode::kBadRequest,
                      bad_add ? "add_usd must be a non-negative amount of USD"
                              : "set_usd must be an amount of USD");
  }
  msg::BudgetResult result;
  if (auto* entry = sessions_.find(request.name); entry != nullptr && !entry->terminating) {
    result = changeBudget(*entry, request);
  } else if (auto* pool = pools_.find(request.name)) {
    result = changeBudget(*pool, request);
  } else {
    return notFound(client, request.id, request.name);
  }
  // Without --data-dir the workers are where a restarted broker gets budgets back from: the
  // answer waits until every worker running a session the change concerns keeps it.
  const BudgetCopies copies = changes(request) ? budgetCopies(request.name) : BudgetCopies{};
  if (copies.empty()) return reply(client, MessageType::kResult, result);  // nothing to tell
  auto* waiting = addRequest(client, request.id, RequestKind::kBudget, request.name,
                             clock_.now() + config_.control_timeout);
  waiting->budget = std::move(result);
  for (const auto& [worker, copies_there] : copies) {
    waiting->confirming.insert(worker);
    sendBudgets(worker, copies_there, waiting->id);
  }
}

BrokerCore::BudgetCopies BrokerCore::budgetCopies(const PoolEntry& pool) const {
  BudgetCopies copies;
  for (const auto& member : pool.members) {
    const auto* entry = sessions_.find(member.name);
    if (entry != nullptr && !entry->worker.empty()) copies[entry->worker].push_back(entry);
  }
  return copies;
}

BrokerCore::BudgetCopies BrokerCore::budgetCopies(const std::string& name) const {
  if (const auto* entry = sessions_.find(name); entry != nullptr && !entry->terminating) {
    if (entry->worker.empty()) return {};  // its next assign carries the budget
    return {{entry->worker, {entry}}};
  }
  const auto* pool = pools_.find(name);
  return pool != nullptr ? budgetCopies(*pool) : BudgetCopies{};
}

void BrokerCore::sendBudgets(const std::string& worker,
                             const std::vector<const SessionEntry*>& copies, uint64_t confirm_id) {
  for (const auto* entry : copies) {
    const bool last = entry == copies.back();
    toWorkerBody(worker, MessageType::kBudget,
                 msg::BudgetUpdate{entry->name, entry->generation, entry->options.budget_usd,
                                   entry->options.pool_budget_usd, entry->usage.counted_from_usd,
                                   last ? confirm_id : 0});
  }
}

void BrokerCore::budgetConfirmed(BrokerRequest& request, const std::string& worker) {
  request.confirming.erase(worker);
  if (!request.confirming.empty()) return;
  msg::BudgetResult result = std::move(request.budget);
  result.id = request.client_id;
  finishRequest(request.id, MessageType::kResult, encodeBody(result));
}

void BrokerCore::budgetWorkerRecovered(BrokerRequest& request, const std::string& worker,
                                       bool still_runs) {
  if (still_runs) {
    // A new connection: the update may have been lost with the old one, and the report the
    // worker registered with may be older than it.
    const BudgetCopies copies = budgetCopies(request.session);
    if (auto there = copies.find(worker); there != copies.end()) {
      return sendBudgets(worker, there->second, request.id);
    }
  }
  budgetConfirmed(request, worker);  // its names move on with the broker's budget
}

msg::BudgetResult BrokerCore::changeBudget(SessionEntry& entry, const msg::BudgetRequest& request) {
  if (changes(request)) {
    entry.options.budget_usd = newBudget(entry.options.budget_usd, entry.usage.spentUsd(), request);
    if (request.reset) entry.usage.counted_from_usd = entry.usage.cost_usd;
    logger_->info("[session {}] budget {} USD, {} spent{}", entry.name, entry.options.budget_usd,
                  entry.usage.spentUsd(), request.reset ? " (reset)" : "");
    events_.emit(event::BudgetChanged{entry.name, "session", entry.options.budget_usd,
                                      entry.usage.spentUsd(), request.reset});
  }
  auto result =
      budgetFigures(entry.name, "session", entry.options.budget_usd, entry.usage.spentUsd());
  result.id = request.id;
  return result;
}

msg::BudgetResult BrokerCore::changeBudget(PoolEntry& pool, const msg::BudgetRequest& request) {
  if (changes(request)) {
    double& budget = pool.options.pool_budget_usd;
    budget = newBudget(budget, poolSpent(pool), request);
    for (const auto& member : pool.members) {
      auto* entry = sessions_.find(member.name);
      if (entry == nullptr) continue;
      entry->options.pool_budget_usd = budget;
      if (request.reset) entry->usage.counted_from_usd = entry->usage.cost_usd;
    }
    logger_->info("[pool {}] budget {} USD, {} spent{}", pool.name, budget, poolSpent(pool),
                  request.reset ? " (reset)" : "");
    events_.emit(event::BudgetChanged{pool.name, "pool", budget, poolSpent(pool), request.reset});
  }
  auto result = budgetFigures(pool.name, "pool", pool.options.pool_budget_usd, poolSpent(pool));
  result.id = request.id;
  return result;
}

}  // namespace ccmesh::broker
