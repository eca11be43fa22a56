// strikeflow operator dashboard: a snapshot, then live events over /ws/monitor.
// Plain DOM, no framework. Every value from the server is written with textContent.
"use strict";

(function () {
  const TOKEN_KEY = "strikeflow.operatorToken";
  const NAME_KEY = "strikeflow.operatorName";
  const MAX_ROWS = 25;
  const MAX_ALERTS = 100;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = {
    safety: null,
    broker: null,
    positions: [],
    pnl: [],
    tradingDay: null,
    pending: [],
    signals: [],
    decisions: [],
    fills: [],
    alerts: [],
  };

  const $ = (id) => document.getElementById(id);

  // ---------- formatting ----------
  const timeFmt = new Intl.DateTimeFormat("en-IN", {
    timeZone: "Asia/Kolkata", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  const dayTimeFmt = new Intl.DateTimeFormat("en-IN", {
    timeZone: "Asia/Kolkata", day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit",
    hour12: false,
  });
  function hhmmss(iso) { return iso ? timeFmt.format(new Date(iso)) : "—"; }
  function dayTime(iso) { return iso ? dayTimeFmt.format(new Date(iso)) : "—"; }
  function strike(text) { return text === null || text === undefined ? "—" : String(text).replace(/\.0+$/, ""); }
  function money(text) { return text === null || text === undefined ? "—" : "₹" + text; }
  function signClass(text) {
    const value = Number(text);
    return value > 0 ? "pos" : value < 0 ? "neg" : "";
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function row(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      if (cell instanceof Node) {
        const td = document.createElement("td");
        td.appendChild(cell);
        tr.appendChild(td);
      } else if (cell && typeof cell === "object") {
        tr.appendChild(el("td", cell.text, cell.cls));
      } else {
        tr.appendChild(el("td", cell === null || cell === undefined ? "—" : cell));
      }
    }
    return tr;
  }
  function fillBody(tableId, rows) {
    const body = $(tableId).querySelector("tbody");
    body.replaceChildren(...rows);
  }
  function facts(dlId, pairs) {
    const dl = $(dlId);
    dl.replaceChildren();
    for (const [name, value, cls] of pairs) {
      const wrap = dl.classList.contains("inline") ? document.createElement("div") : dl;
      wrap.appendChild(el("dt", name));
      const dd = el("dd", value, cls);
      dd.dataset.fact = name;
      wrap.appendChild(dd);
      if (wrap !== dl) dl.appendChild(wrap);
    }
  }

  // ---------- panels ----------
  function renderBroker() {
    const b = state.broker || {};
    const session = b.session_valid === true ? "valid" : b.session_valid === false ? "INVALID" : "unknown";
    facts("broker-status", [
      ["Mode", b.mode || "unknown"],
      ["Session", session, b.session_valid === false ? "neg" : b.session_valid ? "pos" : ""],
      ["Detail", b.detail || "—"],
      ["Since", dayTime(b.at)],
    ]);
  }

  function renderSafety() {
    const s = state.safety;
    if (!s) return;
    const badge = $("trading-state-badge");
    badge.textContent = s.trading_state;
    badge.className = "badge " + (s.trading_state === "ACTIVE" ? "badge-ok"
      : s.trading_state === "HALTED" ? "badge-bad" : "badge-warn");
    const strong = $("trading-state");
    strong.textContent = s.trading_state;
    strong.className = "state-" + s.trading_state;
    facts("safety-status", [
      ["Kill switch", s.kill_switch ? "ON" : "off", s.kill_switch ? "neg" : ""],
      ["Emergency stop", s.emergency_stop ? "ON" : "off", s.emergency_stop ? "neg" : ""],
      ["Operator state", s.manual_state],
      ["Automation", s.automation ? "on" : "off (approvals)"],
      ["Daily loss halt", s.daily_loss_halt ? "reached" : "no"],
      ["Circuit breaker", s.circuit_breaker],
    ]);
    $("restrictions").replaceChildren(...s.restrictions.map((r) => el("li", r)));
  }

  function renderPositions(flash) {
    const rows = state.positions.map((p) => {
      const tr = row([
        p.instrument, p.side, { text: p.net_quantity, cls: "num" },
        { text: p.average_price, cls: "num" }, { text: p.mark_price || "—", cls: "num" },
        { text: money(p.unrealized_pnl), cls: "num " + signClass(p.unrealized_pnl) },
        { text: money(p.realized_pnl), cls: "num " + signClass(p.realized_pnl) },
        { text: money(p.charges), cls: "num" },
      ]);
      tr.dataset.instrument = p.instrument;
      if (flash) tr.classList.add("flash");
      return tr;
    });
    if (rows.length === 0) rows.push(row([{ text: "no open positions", cls: "muted" }]));
    fillBody("positions", rows);
    $("positions-count").textContent = "(" + state.positions.length + " open)";
  }

  function renderFills() {
    fillBody("fills", state.fills.map((f) => {
      const tr = row([
        hhmmss(f.ts), f.data.signal || "manual", f.data.purpose + " " + f.data.leg,
        f.data.instrument.key, f.data.side, { text: f.data.quantity, cls: "num" },
        { text: f.data.price, cls: "num" }, f.data.price_source,
      ]);
      tr.dataset.fillId = f.data.fill_id;
      return tr;
    }));
  }

  function renderPnlFigures() {
    const last = state.pnl[state.pnl.length - 1];
    $("pnl-day").textContent = state.tradingDay ? "(" + state.tradingDay + ", IST)" : "";
    if (!last) {
      facts("pnl-figures", [["Net", "no P&L snapshot today"]]);
      return;
    }
    facts("pnl-figures", [
      ["Net", money(last.net), signClass(last.net)],
      ["Realised", money(last.realized), signClass(last.realized)],
      ["Unrealised", money(last.unrealized), signClass(last.unrealized)],
      ["Charges", money(last.charges)],
      ["Open positions", last.open_positions],
      ["As of", hhmmss(last.at)],
    ]);
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderChart() {
    const chart = $("pnl-chart");
    const width = Math.max(chart.clientWidth || 800, 300);
    const height = 240;
    const pad = { left: 70, right: 12, top: 12, bottom: 24 };
    chart.setAttribute("viewBox", "0 0 " + width + " " + height);
    chart.replaceChildren();
    const points = state.pnl.map((p) => ({ t: Date.parse(p.at), v: Number(p.net) }));
    chart.appendChild(svg("line", { class: "axis", x1: pad.left, y1: height - pad.bottom,
      x2: width - pad.right, y2: height - pad.bottom }));
    chart.appendChild(svg("line", { class: "axis", x1: pad.left, y1: pad.top, x2: pad.left,
      y2: height - pad.bottom }));
    if (points.length === 0) {
      chart.appendChild(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" },
        "no P&L yet today"));
      chart.dataset.points = "0";
      return;
    }
    let lo = Math.min(0, ...points.map((p) => p.v));
    let hi = Math.max(0, ...points.map((p) => p.v));
    if (hi === lo) { hi += 1; lo -= 1; }
    const t0 = points[0].t;
    const t1 = points.length > 1 ? points[points.length - 1].t : t0 + 60000;
    const x = (t) => pad.left + ((t - t0) / Math.max(t1 - t0, 1)) * (width - pad.left - pad.right);
    const y = (v) => pad.top + ((hi - v) / (hi - lo)) * (height - pad.top - pad.bottom);
    chart.appendChild(svg("line", { class: "zero", x1: pad.left, y1: y(0), x2: width - pad.right,
      y2: y(0) }));
    chart.appendChild(svg("text", { x: pad.left - 6, y: pad.top + 10, "text-anchor": "end" },
      "₹" + hi.toFixed(0)));
    chart.appendChild(svg("text", { x: pad.left - 6, y: height - pad.bottom, "text-anchor": "end" },
      "₹" + lo.toFixed(0)));
    chart.appendChild(svg("text", { x: pad.left, y: height - 6 }, hhmmss(state.pnl[0].at)));
    chart.appendChild(svg("text", { x: width - pad.right, y: height - 6, "text-anchor": "end" },
      hhmmss(state.pnl[state.pnl.length - 1].at)));
    const path = points.map((p) => x(p.t).toFixed(1) + "," + y(p.v).toFixed(1)).join(" ");
    chart.appendChild(svg("polyline", { class: "series", points: path }));
    const last = points[points.length - 1];
    chart.appendChild(svg("circle", { class: "dot", cx: x(last.t), cy: y(last.v), r: 3 }));
    chart.dataset.points = String(points.length);
  }

  function renderPending() {
    const rows = state.pending.map((p) => {
      const buttons = document.createElement("span");
      const approve = el("button", "Approve", "small");
      approve.type = "button";
      approve.dataset.action = "approve";
      approve.addEventListener("click", () => resolvePending(p.signal_id, true));
      const reject = el("button", "Reject", "small danger");
      reject.type = "button";
      reject.dataset.action = "reject";
      reject.addEventListener("click", () => resolvePending(p.signal_id, false));
      buttons.append(approve, " ", reject);
      const tr = row([p.signal + " " + (p.action || ""), p.trading_week, strike(p.strike),
        dayTime(p.expires_at), buttons]);
      tr.dataset.signalId = p.signal_id;
      return tr;
    });
    if (rows.length === 0) rows.push(row([{ text: "nothing waiting", cls: "muted" }]));
    fillBody("pending", rows);
  }

  function renderSignals() {
    fillBody("signals", state.signals.map((s) => {
      const tr = row([
        hhmmss(s.at), s.signal, s.action,
        s.strike ? strike(s.strike) + (s.option_type ? " " + s.option_type : "") : "—",
        s.trading_week,
      ]);
      tr.dataset.signalId = s.signal_id;
      return tr;
    }));
  }

  function renderDecisions() {
    fillBody("decisions", state.decisions.map((d) => {
      const tr = row([
        hhmmss(d.at), d.signal || d.signal_id.slice(0, 8), d.action,
        { text: d.outcome, cls: d.outcome === "approved" ? "pos" : d.outcome === "denied" ? "neg" : "" },
        (d.reasons || []).join("; ") || "—",
      ]);
      tr.dataset.signalId = d.signal_id;
      return tr;
    }));
  }

  function renderAlerts() {
    $("alerts").replaceChildren(...state.alerts.map((a) => {
      const li = el("li", null, a.level);
      li.appendChild(el("span", hhmmss(a.ts), "time"));
      li.appendChild(document.createTextNode(a.text));
      return li;
    }));
  }

  function addAlert(ts, text, level) {
    state.alerts.unshift({ ts, text, level });
    state.alerts.length = Math.min(state.alerts.length, MAX_ALERTS);
    renderAlerts();
  }

  function pushFront(list, item) {
    list.unshift(item);
    list.length = Math.min(list.length, MAX_ROWS);
  }

  // ---------- events ----------
  const handlers = {
    snapshot(ev) {
      const d = ev.data;
      state.broker = d.broker;
      state.safety = d.safety;
      state.positions = d.positions;
      state.pnl = d.pnl;
      state.tradingDay = d.trading_day;
      state.pending = d.pending;
      state.signals = d.signals;
      state.decisions = d.decisions;
      renderBroker(); renderSafety(); renderPositions(false); renderPnlFigures(); renderChart();
      renderPending(); renderSignals(); renderDecisions(); renderFills();
    },
    signal(ev) {
      pushFront(state.signals, { ...ev.data, at: ev.ts });
      renderSignals();
    },
    decision(ev) {
      const known = state.signals.find((s) => s.signal_id === ev.data.signal_id);
      pushFront(state.decisions, { ...ev.data, signal: known ? known.signal : null, at: ev.ts });
      renderDecisions();
      if (ev.data.outcome === "denied") {
        addAlert(ev.ts, "Rejected " + (known ? known.signal + " " : "") + ev.data.action + ": "
          + (ev.data.reasons || []).join("; "), "bad");
      }
    },
    order_event(ev) {
      if (ev.data.event === "rejected") {
        addAlert(ev.ts, "Broker rejected order " + ev.data.client_order_id + ": " + ev.data.reason, "bad");
      }
    },
    fill(ev) {
      pushFront(state.fills, ev);
      renderFills();
    },
    pnl(ev) {
      if (state.tradingDay && ev.data.trading_day !== state.tradingDay) {
        state.pnl = [];
      }
      state.tradingDay = ev.data.trading_day;
      state.pnl.push(ev.data);
      renderPnlFigures(); renderChart();
    },
    trade_closed(ev) {
      addAlert(ev.ts, "Trade closed" + (ev.data.signal ? " (" + ev.data.signal + ")" : "")
        + ": net " + money(ev.data.net_pnl), Number(ev.data.net_pnl) < 0 ? "warn" : "");
    },
    control(ev) {
      const c = ev.data;
      const what = c.state ? c.key + " → " + c.state
        : Object.keys(c.values).length ? c.key + " " + JSON.stringify(c.values)
        : c.key + (c.engaged ? " ON" : " off");
      addAlert(ev.ts, "Control: " + what + " by " + c.changed_by + " (" + c.reason + ")",
        c.engaged || c.state === "HALTED" ? "bad" : "warn");
    },
    safety(ev) {
      state.safety = ev.data;
      renderSafety();
    },
    broker(ev) {
      const before = state.broker;
      state.broker = ev.data;
      renderBroker();
      if (!before || before.session_valid !== ev.data.session_valid || before.mode !== ev.data.mode) {
        addAlert(ev.ts, "Broker " + ev.data.mode + " session "
          + (ev.data.session_valid ? "valid" : "INVALID") + ": " + ev.data.detail,
          ev.data.session_valid ? "warn" : "bad");
      }
    },
    command(ev) {
      addAlert(ev.ts, "Command " + ev.data.command + " by " + ev.data.requested_by + " ("
        + ev.data.reason + ")", "warn");
    },
    positions(ev) {
      state.positions = ev.data.positions;
      renderPositions(true);
    },
    pending(ev) {
      state.pending = ev.data.pending;
      renderPending();
    },
  };

  function onEvent(ev) {
    const handler = handlers[ev.type];
    if (handler) handler(ev);
    document.body.dataset.lastEvent = ev.type;
  }

  // ---------- WebSocket ----------
  let retryMs = 500;
  function setConnection(text, cls, stateName) {
    const badge = $("connection");
    badge.textContent = text;
    badge.className = "badge " + cls;
    badge.dataset.state = stateName;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + location.host + "/ws/monitor");
    ws.onopen = () => { retryMs = 500; setConnection("live", "badge-ok", "live"); };
    ws.onmessage = (msg) => {
      try {
        onEvent(JSON.parse(msg.data));
      } catch (err) {
        console.error("dashboard event failed", err);
      }
    };
    ws.onclose = (closed) => {
      const why = closed.code === 1013 ? "dropped (too slow), reconnecting…" : "reconnecting…";
      setConnection(why, "badge-warn", "reconnecting");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  // ---------- health (polled: it is computed on request) ----------
  async function pollHealth() {
    let body;
    try {
      const response = await fetch("/api/v2/health");
      body = await response.json();
    } catch (err) {
      body = { status: "down", components: { monitor: { status: "down", detail: String(err) } } };
    }
    const overall = $("health-overall");
    overall.textContent = body.status;
    overall.className = "badge " + (body.status === "ok" ? "badge-ok"
      : body.status === "degraded" ? "badge-warn" : "badge-bad");
    $("health").replaceChildren(...Object.entries(body.components || {}).map(([name, c]) => {
      const li = el("li", name + " " + c.status, c.status);
      li.title = c.detail || "";
      return li;
    }));
  }

  // ---------- operator actions ----------
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

  function showTokenState() {
    $("token-state").textContent = token() ? "token set for this tab" : "no token";
  }

  function showResult(ok, text) {
    const out = $("action-result");
    out.textContent = text;
    out.className = "action-result " + (ok ? "ok" : "error");
    out.dataset.ok = ok ? "true" : "false";
  }

  async function command(path, body, label) {
    const headers = { "Content-Type": "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    const name = sessionStorage.getItem(NAME_KEY);
    if (name) headers["X-Operator"] = name;
    const reason = $("reason").value.trim() || "from the dashboard";
    let response;
    try {
      response = await fetch("/api/v2/dashboard/operator/" + path, {
        method: "POST", headers, body: JSON.stringify({ reason, ...body }),
      });
    } catch (err) {
      showResult(false, label + ": monitor unreachable (" + err + ")");
      return;
    }
    let answer = {};
    try { answer = await response.json(); } catch (err) { answer = {}; }
    if (response.ok) {
      showResult(true, label + ": " + (answer.status || "accepted") + " (HTTP " + response.status + ")");
      return;
    }
    const detail = answer.error || (answer.detail ? JSON.stringify(answer.detail) : response.statusText);
    const hint = response.status === 401 ? "401 Unauthorized — enter the operator token"
      : response.status === 403 ? "403 Forbidden — the operator token is wrong"
      : "HTTP " + response.status;
    showResult(false, label + " refused: " + hint + " (" + detail + ")");
  }

  function resolvePending(signalId, approve) {
    const verb = approve ? "approve" : "reject";
    command("strategy/pending/" + signalId + "/" + verb, {}, verb + " " + signalId.slice(0, 8));
  }

  function wire() {
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const value = $("token").value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      const name = $("operator-name").value.trim();
      if (name) sessionStorage.setItem(NAME_KEY, name); else sessionStorage.removeItem(NAME_KEY);
      $("token").value = "";
      showTokenState();
    });
    $("token-clear").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      showTokenState();
    });
    $("operator-name").value = sessionStorage.getItem(NAME_KEY) || "";
    $("kill-on").addEventListener("click", () =>
      command("safety/kill-switch", { engaged: true }, "kill switch ON"));
    $("kill-off").addEventListener("click", () =>
      command("safety/kill-switch", { engaged: false }, "kill switch OFF"));
    $("estop-on").addEventListener("click", () => {
      if (window.confirm("Emergency stop: HALT and square off every open trade?")) {
        command("safety/emergency-stop", { engaged: true }, "emergency stop");
      }
    });
    $("estop-off").addEventListener("click", () =>
      command("safety/emergency-stop", { engaged: false }, "clear emergency stop"));
    window.addEventListener("resize", renderChart);
    setInterval(() => { $("clock").textContent = hhmmss(new Date().toISOString()) + " IST"; }, 1000);
    showTokenState();
  }

  wire();
  renderBroker();
  renderChart();
  connect();
  pollHealth();
  setInterval(pollHealth, 5000);
})();
