#include "monitor/status_page.hpp"

namespace ccmesh::broker {

const std::string_view kStatusPage = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ccmesh broker</title>
<style>
  :root { --fg:#1d232a; --muted:#667; --line:#dde2e8; --bg:#f6f8fa; --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
  header { display:flex; flex-wrap:wrap; gap:.5rem 1.5rem; align-items:baseline; padding:.8rem 1rem; background:#fff; border-bottom:1px solid var(--line); }
  header h1 { font-size:1.1rem; margin:0; }
  #live { font-weight:600; }
  #live.on { color:var(--ok); } #live.off { color:var(--bad); }
  main { display:grid; grid-template-columns:repeat(auto-fit, minmax(min(100%, 34rem), 1fr)); gap:1rem; padding:1rem; }
  section { background:#fff; border:1px solid var(--line); border-radius:6px; overflow:auto; }
  section h2 { font-size:.95rem; margin:0; padding:.6rem .8rem; border-bottom:1px solid var(--line); }
  table { border-collapse:collapse; width:100%; }
  th, td { text-align:left; padding:.3rem .8rem; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--muted); font-weight:500; font-size:.85rem; }
  td.num, th.num { text-align:right; }
  .state-idle, .state-busy { color:var(--ok); }
  .state-failed, .state-stopped { color:var(--bad); }
  .state-pending, .state-starting, .state-hibernated { color:var(--warn); }
  #events { list-style:none; margin:0; padding:0; font:12px/1.5 ui-monospace, monospace; max-height:24rem; overflow:auto; }
  #events li { padding:.15rem .8rem; border-bottom:1px solid var(--line); white-space:pre-wrap; }
  .empty { color:var(--muted); padding:.6rem .8rem; }
</style>
</head>
<body>
<header>
  <h1>ccmesh broker</h1>
  <span id="version"></span>
  <span id="uptime"></span>
  <span id="totals"></span>
  <span id="live" class="off">connecting</span>
</header>
<main>
  <section><h2>Workers</h2>
    <table><thead><tr><th>worker</th><th class="num">capacity</th><th class="num">sessions</th><th class="num">live CLIs</th><th class="num">hibernated</th><th class="num">heartbeat age</th><th>labels</th></tr></thead>
    <tbody id="workers"></tbody></table></section>
  <section><h2>Sessions</h2>
    <table><thead><tr><th>session</th><th>state</th><th>worker</th><th class="num">gen</th><th class="num">queue</th><th class="num">turns</th><th class="num">cost</th></tr></thead>
    <tbody id="sessions"></tbody></table></section>
  <section><h2>Pools</h2>
    <table><thead><tr><th>pool</th><th>strategy</th><th class="num">members</th><th class="num">checked out</th><th class="num">waiting</th><th>members</th></tr></thead>
    <tbody id="pools"></tbody></table></section>
  <section><h2>Events</h2><ul id="events"></ul></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}
function fill(body, rows, empty) {
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = cell(empty, "empty");
    td.colSpan = 7;
    tr.append(td);
    body.append(tr);
    return;
  }
  for (const row of rows) body.append(row);
}
function row(attrs, cells) {
  const tr = document.createElement("tr");
  for (const [k, v] of Object.entries(attrs)) tr.dataset[k] = v;
  tr.append(...cells);
  return tr;
}
function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}
async function get(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(path + ": " + response.status);
  return response.json();
}
async function refresh() {
  try {
    const [status, list, pools] = await Promise.all([get("/api/status"), get("/api/sessions"), get("/api/pools")]);
    $("version").textContent = "version " + status.version;
    $("uptime").textContent = "up " + duration(status.uptime_ms);
    $("totals").textContent = status.workers.length + " worker(s), " + status.sessions + " session(s), " +
      status.requests_in_flight + " request(s) in flight";
    fill($("workers"), status.workers.map((w) => row({ worker: w.id }, [
      cell(w.id), cell(w.capacity, "num"), cell(w.sessions, "num"), cell(w.live, "num"),
      cell(w.hibernated, "num"), cell(w.heartbeat_age_ms + " ms", "num"),
      cell(Object.entries(w.labels || {}).map(([k, v]) => k + "=" + v).join(", "))])), "no worker connected");
    fill($("sessions"), list.sessions.map((s) => row({ session: s.name }, [
      cell(s.name), cell(s.state, "state state-" + s.state), cell(s.worker || "-", "worker"),
      cell(s.generation, "num"), cell(s.queue_depth, "num"), cell(s.turns, "num"),
      cell("$" + (s.cost_usd || 0).toFixed(4), "num")])), "no session");
    fill($("pools"), pools.pools.map((p) => row({ pool: p.name }, [
      cell(p.name), cell(p.strategy), cell(p.size, "num"), cell(p.checked_out, "num"),
      cell(p.waiting_checkouts, "num"), cell(p.members.map((m) => m.name).join(", "))])), "no pool");
  } catch (error) {
    $("live").textContent = "cannot read the broker (" + error.message + ")";
    $("live").className = "off";
  }
}
let pending = null;
function soon() {
  if (pending === null) pending = setTimeout(() => { pending = null; refresh(); }, 100);
}
function follow() {
  const events = new EventSource("/events");
  events.onopen = () => { $("live").textContent = "live"; $("live").className = "on"; refresh(); };
  events.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "off"; };
  const show = (message) => {
    let line = message.data;
    try {
      const e = JSON.parse(message.data);
      line = "#" + e.seq + " " + e.time + " " + e.type + ": " + e.text;
    } catch (_) { /* shown as it came */ }
    const li = document.createElement("li");
    li.textContent = line;
    const list = $("events");
    list.prepend(li);
    while (list.children.length > 200) list.lastChild.remove();
    soon();
  };
  events.onmessage = show;
  for (const type of ["session_registered", "session_placed", "session_moved", "session_state_changed",
      "session_crashed", "session_restarted", "session_failed", "session_terminated", "worker_joined",
      "worker_lost", "worker_fenced", "query_admitted", "query_delivered", "query_finished",
      "pool_created", "pool_resized", "pool_deleted", "member_checked_out", "member_checked_in",
      "member_reclaimed", "message_refused", "allow_lists_reloaded", "permission_asked",
      "permission_decided", "budget_changed", "budget_exhausted", "missed"]) {
    events.addEventListener(type, show);
  }
}
refresh();
follow();
setInterval(refresh, 5000);
</script>
</body>
</html>
)HTML";

}  // namespace ccmesh::broker
