#include "ha/leader_election.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <tuple>
#include <unordered_set>

namespace ccmesh::broker {
namespace {

using nlohmann::json;

TimePoint steadyNow() { return std::chrono::steady_clock::now(); }

std::string encodeAddress(const BrokerAddress& address) {
  return json{{"name", address.name}, {"frontend", address.frontend}, {"backend", address.backend}}
      .dump();
}

std::optional<BrokerAddress> decodeAddress(const std::string& text) {
  const json value = json::parse(text, nullptr, false);
  if (!value.is_object()) return std::nullopt;
  return BrokerAddress{value.value("name", ""), value.value("frontend", ""),
                       value.value("backend", "")};
}

// Declarations written in one transaction at most: etcd's default --max-txn-ops is 128 and
// its default request limit 1.5 MiB (--max-request-bytes), which base64 and JSON reach at
// about 1 MiB of keys and values.
constexpr std::size_t kMaxWritesPerTxn = 128;
constexpr std::size_t kMaxTxnBytes = 768u << 10;

// How often standbys read the leader key, and how long one etcd call may take.
Millis tickOf(Millis ttl) { return std::clamp(ttl / 10, Millis(20), Millis(100)); }
Millis callTimeoutOf(Millis ttl) { return std::clamp(ttl / 4, Millis(100), Millis(1000)); }

}  // namespace

Millis fencingMargin(Millis ttl) { return std::max(ttl / 10, Millis(50)); }

std::string LeaderElection::leaderKey(const std::string& cluster) {
  return "/ccmesh/" + cluster + "/leader";
}

std::string LeaderElection::membersPrefix(const std::string& cluster) {
  return "/ccmesh/" + cluster + "/brokers/";
}

std::string LeaderElection::declaredPrefix(const std::string& cluster) {
  return "/ccmesh/" + cluster + "/declared/";
}

std::optional<Declarations> LeaderElection::takeDeclarations() {
  std::lock_guard lock(mutex_);
  auto taken = std::move(declared_);
  declared_.reset();
  return taken;
}

uint64_t LeaderElection::record(DeclarationWrite write) {
  uint64_t number = 0;
  {
    std::lock_guard lock(mutex_);
    number = ++recorded_;
    writes_.emplace_back(number, std::move(write));
  }
  wake_.notify_all();
  return number;
}

bool LeaderElection::readDeclarations() {
  auto found = etcd_.range(declaredPrefix(config_.cluster), true);
  if (!found) return false;
  Declarations declared;
  const std::string sessions = declaredPrefix(config_.cluster) + sessionKey("");
  for (const auto& kv : *found) {
    try {
      const auto handle = msgpack::unpack(kv.value.data(), kv.value.size());
      if (kv.key.rfind(sessions, 0) == 0) {
        declared.sessions.push_back(handle.get().as<DeclaredSession>());
      } else {
        declared.pools.push_back(handle.get().as<DeclaredPool>());
      }
    } catch (const std::exception& e) {
      logger_->error("etcd key {} holds no declaration ({}); ignored", kv.key, e.what());
    }
  }
  logger_->info("read {} session(s) and {} pool(s) declared in cluster {}",
                declared.sessions.size(), declared.pools.size(), config_.cluster);
  std::lock_guard lock(mutex_);
  declared_ = std::move(declared);
  return true;
}

void LeaderElection::writeDeclarations() {
  while (leading_) {
    // The oldest declarations waiting, as one transaction: one etcd round trip (and one
    // fsync on its members) for many starts. It ends before a key already in it (etcd
    // refuses a transaction naming a key twice) and at etcd's bounds.
    std::vector<EtcdWrite> batch;
    uint64_t last = 0;
    {
      std::lock_guard lock(mutex_);
      std::unordered_set<std::string_view> keys;
      std::size_t bytes = 0;
      for (const auto& [number, write] : writes_) {
        const std::size_t size = write.key.size() + (write.value ? write.value->size() : 0);
        if (!batch.empty() && (batch.size() == kMaxWritesPerTxn || bytes + size > kMaxTxnBytes ||
                               keys.contains(write.key))) {
          break;
        }
        keys.insert(write.key);
        bytes += size;
        batch.push_back({declaredPrefix(config_.cluster) + write.key, write.value});
        last = number;
      }
    }
    if (batch.empty()) return;
    bool applied = false;
    if (!etcd_.writeIfCreatedAt(leaderKey(config_.cluster), static_cast<int64_t>(term_), batch,
                                applied)) {
      return;  // etcd did not answer: the next pass tries again
    }
    {
      std::lock_guard lock(mutex_);
      writes_.erase(writes_.begin(), writes_.begin() + static_cast<std::ptrdiff_t>(batch.size()));
    }
    if (!applied) {
      // Not durable, and nothing after them will be (the guard never holds again): whatever
      // waits for them waits until this broker steps down.
      logger_->warn(
          "{} declaration(s) from {} not written: this broker no longer holds the "
          "leader key",
          batch.size(), batch.front().key);
      continue;
    }
    written_.store(last, std::memory_order_release);
    if (on_change_) on_change_();
  }
}

LeaderElection::LeaderElection(HaConfig config, BrokerAddress self, std::function<void()> on_change,
                               std::shared_ptr<spdlog::logger> logger)
    : config_(std::move(config)),
      self_(std::move(self)),
      on_change_(std::move(on_change)),
      logger_(std::move(logger)),
      etcd_(config_.etcd, callTimeoutOf(config_.ttl)),
      lease_ttl_(config_.ttl) {}

LeaderElection::~LeaderElection() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (leading_ && lease_ != 0) {
    // A clean stop hands over at once instead of at the lease's end.
    etcd_.deleteIfCreatedAt(leaderKey(config_.cluster), static_cast<int64_t>(term_));
    logger_->info("resigned as leader of cluster {} (term {})", config_.cluster, term_);
  }
  if (lease_ != 0) etcd_.revoke(lease_);
}

void LeaderElection::start() {
  logger_->info("campaigning in cluster {} as {} through etcd at {} (ttl {} ms)", config_.cluster,
                self_.name, fmt::join(config_.etcd, ","), config_.ttl.count());
  thread_ = std::thread([this] { run(); });
}

ElectionView LeaderElection::view() const {
  std::lock_guard lock(mutex_);
  return view_;
}

void LeaderElection::stepDown() {
  {
    std::lock_guard lock(mutex_);
    step_down_ = true;
  }
  wake_.notify_all();
}

void LeaderElection::run() {
  while (true) {
    const TimePoint next = pass();
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, next,
                     [this] { return stopping_ || step_down_ || (leading_ && !writes_.empty()); });
    if (stopping_) return;
  }
}

TimePoint LeaderElection::pass() {
  const Millis tick = tickOf(config_.ttl);
  bool step_down = false;
  {
    std::lock_guard lock(mutex_);
    std::swap(step_down, step_down_);
  }
  if (step_down && lease_ != 0) {
    if (leading_) etcd_.deleteIfCreatedAt(leaderKey(config_.cluster), static_cast<int64_t>(term_));
    etcd_.revoke(lease_);
    loseLease("it stopped serving before a renewal came back");
  }
  if (lease_ == 0 && !acquireLease()) return steadyNow() + tick;
  const TimePoint now = steadyNow();
  if (!renew(now)) return steadyNow() + tick;
  if (leading_) {
    confirm();
    writeDeclarations();
  } else {
    campaign();
  }
  if (steadyNow() >= next_members_read_) readMembers();
  return std::min(renew_due_, steadyNow() + tick);
}

bool LeaderElection::acquireLease() {
  const int64_t seconds = std::max<int64_t>(1, (config_.ttl.count() + 999) / 1000);
  const TimePoint sent = steadyNow();
  auto granted = etcd_.grantLease(seconds);
  if (!granted) {
    publish([&](ElectionView& view) {
      view.role = ElectionView::Role::kCandidate;
      view.leader.reset();
      view.problem = "etcd does not answer at " + fmt::format("{}", fmt::join(config_.etcd, ","));
    });
    return false;
  }
  lease_ = granted->first;
  if (granted->second > seconds) {
    logger_->warn(
        "etcd granted a lease of {} s, longer than --ha-ttl-ms {}: after a leader dies its "
        "successor waits that long (etcd's lease minimum follows its election timeout)",
        granted->second, config_.ttl.count());
  }
  lease_ttl_ = std::max(config_.ttl, Millis(granted->second * 1000));
  last_renewal_sent_ = sent;
  renew_due_ = sent + config_.ttl / 3;
  etcd_.put(membersPrefix(config_.cluster) + self_.name, encodeAddress(self_), lease_);
  next_members_read_ = steadyNow();
  logger_->info("etcd lease {:x} granted ({} s)", lease_, granted->second);
  return true;
}

bool LeaderElection::renew(TimePoint now) {
  if (now < renew_due_) return true;
  auto left = etcd_.keepAlive(lease_);
  if (!left) {
    // etcd did not answer: try again at the next tick; the term runs out on its own.
    renew_due_ = steadyNow() + tickOf(config_.ttl);
    if (leading_) {
      logger_->warn("etcd did not renew the lease; serving for at most {} ms more",
                    std::max<int64_t>(0, std::chrono::duration_cast<Millis>(
                                             last_renewal_sent_ + config_.ttl -
                                             fencingMargin(config_.ttl) - steadyNow())
                                             .count()));
    }
    return false;
  }
  if (*left <= 0) {
    loseLease("etcd let the lease expire");
    return false;
  }
  last_renewal_sent_ = now;
  renew_due_ = now + config_.ttl / 3;
  if (leading_) {
    publish([&](ElectionView& view) {
      view.serve_until = last_renewal_sent_ + config_.ttl - fencingMargin(config_.ttl);
    });
  }
  return true;
}

void LeaderElection::campaign() {
  auto outcome = etcd_.createIfAbsent(leaderKey(config_.cluster), encodeAddress(self_), lease_);
  if (!outcome) return;  // etcd did not answer: the next pass tries again
  if (outcome->created) {
    term_ = static_cast<uint64_t>(outcome->holder.create_revision);
    if (!readDeclarations()) {
      // Leading without what the cluster declared would lose it: hand the term back.
      logger_->warn("won term {} but could not read the cluster's declarations; resigning", term_);
      etcd_.deleteIfCreatedAt(leaderKey(config_.cluster), static_cast<int64_t>(term_));
      return;
    }
    {
      // Writes queued by an earlier term of this broker are stale.
      std::lock_guard lock(mutex_);
      writes_.clear();
    }
    leading_ = true;
    logger_->info("elected leader of cluster {} (term {})", config_.cluster, term_);
    publish([&](ElectionView& view) {
      view.role = ElectionView::Role::kLeader;
      view.term = term_;
      view.leader = self_;
      view.serve_until = last_renewal_sent_ + config_.ttl - fencingMargin(config_.ttl);
      view.problem.clear();
    });
    next_members_read_ = steadyNow();
    return;
  }
  if (outcome->holder.create_revision == 0) return;  // gone in between: campaign again
  const auto leader = decodeAddress(outcome->holder.value);
  const auto term = static_cast<uint64_t>(outcome->holder.create_revision);
  const ElectionView known = view();
  if (known.role == ElectionView::Role::kStandby && known.term == term) return;
  term_ = term;
  logger_->info("standby: {} leads cluster {} (term {})", leader ? leader->name : "?",
                config_.cluster, term);
  publish([&](ElectionView& view) {
    view.role = ElectionView::Role::kStandby;
    view.term = term;
    view.leader = leader;
    view.problem.clear();
  });
}

void LeaderElection::confirm() {
  auto found = etcd_.range(leaderKey(config_.cluster));
  if (!found) return;
  const bool ours = !found->empty() &&
                    found->front().create_revision == static_cast<int64_t>(term_) &&
                    found->front().lease == lease_;
  if (ours) return;
  logger_->warn("the leader key of term {} is gone or not ours any more: stepping down", term_);
  etcd_.revoke(lease_);
  loseLease("its leader key was removed");
}

void LeaderElection::readMembers() {
  next_members_read_ = steadyNow() + std::max(config_.ttl, Millis(1000));
  auto found = etcd_.range(membersPrefix(config_.cluster), true);
  if (!found) return;
  publish([&](ElectionView& view) {
    view.members.clear();
    for (const auto& kv : *found) {
      auto address = decodeAddress(kv.value);
      if (!address) continue;
      const bool leader = view.leader && view.leader->name == address->name;
      view.members.push_back(ElectionMember{std::move(*address), leader});
    }
  });
}

void LeaderElection::loseLease(const std::string& why) {
  if (leading_)
    logger_->warn("no longer leader of cluster {} (term {}): {}", config_.cluster, term_, why);
  leading_ = false;
  lease_ = 0;
  publish([&](ElectionView& view) {
    view.role = ElectionView::Role::kCandidate;
    view.leader.reset();
    view.serve_until = {};
    view.problem = why;
  });
}

void LeaderElection::publish(const std::function<void(ElectionView&)>& change) {
  {
    std::lock_guard lock(mutex_);
    change(view_);
    version_.fetch_add(1, std::memory_order_release);
  }
  if (on_change_) on_change_();
}

}  // namespace ccmesh::broker
