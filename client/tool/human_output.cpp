#include "human_output.hpp"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <string>

#include "json_output.hpp"

namespace ccmesh::client {
namespace {

using Row = std::vector<std::string>;

// Columns separated by two spaces, each as wide as its widest cell.
void printTable(std::ostream& out, const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto print_row = [&](const Row& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

std::string orDash(const std::string& text) { return text.empty() ? "-" : text; }

std::string seconds(uint64_t ms) { return std::to_string(ms / 1000); }

// "0.1234"
std::string dollars(double amount) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(4) << amount;
  return text.str();
}

// "0.1234 USD"
std::string usd(double amount) { return dollars(amount) + " USD"; }

// "0.0300 USD, 3 turns, 120 in / 45 out tokens"
std::string usageLine(const Usage& usage) {
  return usd(usage.cost_usd) + ", " + std::to_string(usage.turns) + " turns, " +
         std::to_string(usage.input_tokens) + " in / " + std::to_string(usage.output_tokens) +
         " out tokens";
}

// "0.0200 of 0.0500 USD" or "none"
std::string budgetLine(double budget, double spent) {
  if (budget <= 0) return "none";
  std::string line = usd(spent) + " spent of " + usd(budget);
  if (spent >= budget) line += " (exhausted: queries get budget_exhausted)";
  return line;
}

}  // namespace

void printAck(std::ostream& out, const char* verb, const msg::Ack& ack) {
  out << verb << " " << ack.session << " on "
      << (ack.worker.empty() ? std::string("no worker yet") : ack.worker) << " (generation "
      << ack.generation << ", state " << ack.state << ")\n";
}

void printInfo(std::ostream& out, const msg::SessionInfo& info) {
  out << "name: " << info.name << "\n"
      << "worker: " << info.worker << "\n"
      << "generation: " << info.generation << "\n"
      << "state: " << info.state << "\n"
      << "pid: " << info.pid << "\n"
      << "session_id: " << info.session_id << "\n"
      << "restarts: " << info.restarts << "\n"
      << "queue_depth: " << info.queue_depth << "\n"
      << "turns: " << info.turns << "\n"
      << "last_error: " << info.last_error << "\n"
      << "last_used_ms: " << info.last_used_ms << "\n"
      << "rss_kb: " << info.rss_kb << "\n"
      << "recycles: " << info.recycles << "\n"
      << "transcript: " << info.transcript_entries << " entries, " << info.transcript_bytes
      << " bytes, last entry " << isoTime(info.transcript_last_ms)
      << (info.transcript_complete ? ", whole" : ", not whole") << "\n"
      << "cut: " << orDash(info.cut) << "\n"
      << "usage: " << usageLine(info.usage) << "\n"
      << "budget: " << budgetLine(info.config.budget_usd, info.usage.spentUsd()) << "\n"
      << "config: " << jsonText(Json(info.config)) << "\n"
      << "creator: " << orDash(info.creator) << "\n";
}

void printList(std::ostream& out, const std::vector<msg::SessionInfo>& sessions) {
  std::vector<Row> rows;
  for (const auto& s : sessions) {
    rows.push_back({s.name, s.state, orDash(s.worker), std::to_string(s.generation),
                    std::to_string(s.queue_depth), s.pid > 0 ? std::to_string(s.pid) : "-"});
  }
  printTable(out, {"NAME", "STATE", "WORKER", "GEN", "QUEUE", "PID"}, rows);
}

void printCount(std::ostream& out, const msg::CountResult& count) { out << count.count << "\n"; }

void printStatus(std::ostream& out, const msg::StatusResult& status) {
  std::vector<Row> rows;
  for (const auto& w : status.workers) {
    std::string labels;
    for (const auto& [key, value] : w.labels) {
      labels += (labels.empty() ? "" : ",") + key + "=" + value;
    }
    rows.push_back(
        {w.id, std::to_string(w.capacity), std::to_string(w.sessions),
         std::to_string(w.live) + "/" + (w.max_live == 0 ? "-" : std::to_string(w.max_live)),
         std::to_string(w.hibernated), std::to_string(w.heartbeat_age_ms),
         dollars(w.usage.cost_usd), orDash(labels)});
  }
  printTable(out,
             {"WORKER", "CAPACITY", "SESSIONS", "LIVE", "HIBERNATED", "HEARTBEAT_AGE_MS",
              "COST_USD", "LABELS"},
             rows);
  out << "\nbroker " << status.version << ", up " << seconds(status.uptime_ms) << " s\n";
  if (!status.ha.role.empty()) {
    out << "high availability: cluster " << status.ha.cluster << ", " << status.ha.name << " is "
        << status.ha.role << " of term " << status.ha.term << "\n";
    for (const auto& member : status.ha.members) {
      out << "  broker " << member.name << " at " << member.frontend << ": "
          << (member.leader ? "leader" : "standby") << "\n";
    }
  }
  out << "workers: " << status.workers.size() << "\n"
      << "sessions: " << status.sessions << " (" << status.pending_sessions
      << " waiting for a worker)\n"
      << "requests in flight: " << status.requests_in_flight << "\n"
      << "usage: " << usageLine(status.usage) << " (every session, its whole life)\n"
      << "refused budget_exhausted: " << status.budget_exhausted << "\n"
      << "malformed messages: " << status.malformed_messages << "\n"
      << "stale messages dropped: " << status.stale_messages << "\n"
      << "workers lost: " << status.workers_lost << "\n"
      << "authentication: "
      << (status.curve      ? "CURVE"
          : status.insecure ? "NONE (--insecure: anyone who reaches the ports may use them)"
                            : "none (loopback only)")
      << "\n"
      << "refused: " << status.refused_handshakes << " handshake(s), " << status.unauthorized
      << " message(s), " << status.refused_worker_ids << " worker message(s) with another's id\n"
      << "allow-list reloads: " << status.reloads << " (" << status.failed_reloads << " refused)\n"
      << "transcripts: " << status.transcript_bytes << " bytes in memory, "
      << status.transcript_dropped_entries << " entries dropped (per-session bound), "
      << status.transcript_evictions << " evicted (total bound), " << status.transcript_rejected
      << " rejected, " << status.transcript_write_errors << " write errors, "
      << status.transcript_duplicates << " duplicates dropped, " << status.transcript_gaps
      << " gaps, " << status.transcript_damaged_files << " damaged files\n";
}

void printPing(std::ostream& out, const msg::PingResult& ping) {
  out << "pong from broker " << ping.version << " (up " << seconds(ping.uptime_ms) << " s)\n";
}

void printContext(std::ostream& out, const msg::ContextResult& context) {
  const Json usage = Json::parse(context.usage, nullptr, false);
  if (!usage.is_object() || !usage.contains("totalTokens") || !usage.contains("maxTokens")) {
    out << "session " << context.session << ": " << context.usage << "\n";
    return;
  }
  out << "session " << context.session << ": " << usage["totalTokens"].dump() << " of "
      << usage["maxTokens"].dump() << " tokens";
  if (usage.contains("percentage")) out << " (" << usage["percentage"].dump() << " %)";
  if (usage.value("model", Json()).is_string()) {
    out << ", model " << usage["model"].get<std::string>();
  }
  out << "\n";
}

void printPoolInfo(std::ostream& out, const char* verb, const msg::PoolInfo& pool) {
  if (verb != nullptr) out << verb << " pool " << pool.name << "\n";
  out << "pool: " << pool.name << "\n"
      << "strategy: " << pool.strategy << "\n"
      << "members: " << pool.size
      << (pool.owned ? " (created by the pool)" : " (existing sessions)") << "\n"
      << "checked out: " << pool.checked_out << " (" << pool.waiting_checkouts
      << " checkout(s) waiting)\n"
      << "reclaims: " << pool.reclaims << "\n"
      << "exhausted: " << pool.exhausted << "\n"
      << "usage: " << usageLine(pool.usage) << "\n"
      << "budget: " << budgetLine(pool.budget_usd, pool.spent_usd) << "\n";
  std::vector<Row> rows;
  for (const auto& m : pool.members) {
    std::string checkout = "-";
    if (m.checked_out) {
      checkout = "lease " + std::to_string(m.lease_id) + " (" + std::to_string(m.lease_left_ms) +
                 " ms left)";
    }
    rows.push_back({m.name, m.state, orDash(m.worker), std::to_string(m.turns),
                    std::to_string(m.served), std::to_string(m.queue_depth), checkout});
  }
  printTable(out, {"MEMBER", "STATE", "WORKER", "TURNS", "SERVED", "QUEUE", "CHECKED_OUT"}, rows);
}

void printUsage(std::ostream& out, const msg::UsageResult& usage) {
  std::vector<Row> rows;
  const bool budgets = usage.by == "session" || usage.by == "pool";
  for (const auto& row : usage.rows) {
    Row shown{usage.by == "model" && row.name.empty() ? "(default)" : row.name,
              std::to_string(row.usage.turns), usd(row.usage.cost_usd),
              std::to_string(row.usage.input_tokens), std::to_string(row.usage.output_tokens)};
    if (budgets) {
      shown.push_back(row.budget_usd > 0 ? usd(row.budget_usd) : "-");
      shown.push_back(row.budget_usd > 0 ? usd(row.spent_usd) : "-");
    } else {
      shown.push_back(std::to_string(row.sessions));
    }
    rows.push_back(std::move(shown));
  }
  std::string title = usage.by;
  for (auto& c : title) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Row header{title, "TURNS", "COST", "INPUT_TOKENS", "OUTPUT_TOKENS"};
  if (budgets) {
    header.insert(header.end(), {"BUDGET", "SPENT"});
  } else {
    header.push_back("SESSIONS_NOW");
  }
  printTable(out, header, rows);
  out << "\ntotal: " << usageLine(usage.total) << " (every session, its whole life)\n";
  if (!budgets) {
    out << "(by " << usage.by << ": the turns this broker saw in its " << seconds(usage.uptime_ms)
        << " s)\n";
  }
}

void printBudget(std::ostream& out, const msg::BudgetResult& budget) {
  out << budget.kind << " " << budget.name << ": budget "
      << (budget.budget_usd > 0 ? usd(budget.budget_usd) : std::string("none")) << ", "
      << usd(budget.spent_usd) << " spent";
  if (budget.budget_usd > 0) out << ", " << usd(budget.left_usd) << " left";
  if (budget.exhausted) out << " (exhausted: queries get budget_exhausted)";
  out << "\n";
}

void printPoolList(std::ostream& out, const std::vector<msg::PoolInfo>& pools) {
  std::vector<Row> rows;
  for (const auto& p : pools) {
    const auto idle = std::count_if(p.members.begin(), p.members.end(), [](const auto& m) {
      return m.state == "idle" && !m.checked_out && m.queue_depth == 0;
    });
    rows.push_back({p.name, p.strategy, std::to_string(p.size), std::to_string(idle),
                    std::to_string(p.checked_out), std::to_string(p.waiting_checkouts),
                    std::to_string(p.reclaims)});
  }
  printTable(out, {"POOL", "STRATEGY", "SIZE", "IDLE", "CHECKED_OUT", "WAITING", "RECLAIMS"}, rows);
}

void printCheckout(std::ostream& out, const msg::CheckoutResult& checkout) {
  out << "checked out " << checkout.member << " of pool " << checkout.pool << " on "
      << (checkout.worker.empty() ? std::string("no worker yet") : checkout.worker) << " (lease "
      << checkout.lease_id << ", " << checkout.lease_ms << " ms)\n";
}

void printAnsweredBy(std::ostream& out, const msg::QueryResult& result) {
  out << "answered by " << result.session << " of pool " << result.pool << " on "
      << orDash(result.worker) << "\n";
}

void printError(std::ostream& err, const ReplyError& error, bool partial_shown) {
  err << "error: " << wireCode(error) << ": " << error.message << "\n";
  if (!partial_shown && !error.partial.empty()) {
    err << "partial answer:\n" << error.partial << "\n";
  }
}

}  // namespace ccmesh::client
