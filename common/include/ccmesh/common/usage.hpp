#pragma once

#include <algorithm>
#include <cstdint>
#include <msgpack.hpp>

namespace ccmesh {

// What a session's turns have used, added up over its whole life: across CLI restarts,
// failovers and moves (the broker hands it to every new placement in `assign`, the worker
// reports it in every `session` update, so a restarted broker gets it back from the workers).
// docs/SESSIONS.md "Cost and budgets".
struct Usage {
  double cost_usd = 0;         // what its turns cost, as its CLIs reported it
  uint64_t input_tokens = 0;   // input tokens of its turns
  uint64_t output_tokens = 0;  // output tokens of its turns
  uint64_t turns = 0;          // turns that ended (answered or failed)
  // Its cluster-side budget (budget_usd, pool_budget_usd) counts the cost above this: the
  // total at its last `budget --reset` (0: never reset).
  double counted_from_usd = 0;

  // The cost its budget counts.
  double spentUsd() const { return std::max(0.0, cost_usd - counted_from_usd); }

  // Adds what one turn used.
  void addTurn(double cost, uint64_t input, uint64_t output) {
    cost_usd += std::max(0.0, cost);
    input_tokens += input;
    output_tokens += output;
    ++turns;
  }

  // Adds another usage's totals (its counted_from_usd is left alone).
  void add(const Usage& other) {
    cost_usd += other.cost_usd;
    input_tokens += other.input_tokens;
    output_tokens += other.output_tokens;
    turns += other.turns;
  }

  bool operator==(const Usage&) const = default;

  MSGPACK_DEFINE_MAP(cost_usd, input_tokens, output_tokens, turns, counted_from_usd)
};

}  // namespace ccmesh
