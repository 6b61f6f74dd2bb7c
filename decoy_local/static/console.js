// The local console: posts to /_local/console/*, polls its state; no library, no build.
"use strict";

(() => {
  const T = JSON.parse(document.getElementById("strings").dataset.strings);
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1000;

  const fill = (text, values) =>
    text.replace(/\{(\w+)\}/g, (_, key) => (key in values ? String(values[key]) : ""));

  // A number as the page's language writes it (French: 1,5 s).
  const num = (value) => Number(value).toLocaleString(document.documentElement.lang,
    { useGrouping: false, maximumFractionDigits: 1 });

  // A failure is said in the page's language: the answer's `key` names the sentence.
  async function post(path, payload) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
    } catch (error) {
      throw new Error(T.error_stack);
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(T[data.key] || T.error_stack);
    return data;
  }

  // A cell holding text only: nothing the server sends is ever parsed as HTML.
  function cell(row, text, tag = "td", className = "") {
    const element = document.createElement(tag);
    element.textContent = text;
    if (className) element.className = className;
    row.appendChild(element);
    return element;
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  // Sentences only (decoy.outcomes, served in the page's language): codes stay in the JSON.
  const said = (codes) => codes.map((code) => T.outcomes[code]).filter(Boolean).join(" ");
  // The reply the phone panel waits for: its masked number and the outbox rows already there.
  let waiting = null;
  const NBSP = "\u202f";
  const quote = (text) => (document.documentElement.lang === "fr"
    ? `«${NBSP}${text}${NBSP}»` : `“${text}”`);

  function showAnswer(answer, known) {
    const lines = [];
    waiting = null;
    if (answer.kind === "bad_number") {
      $("answer").textContent = fill(T.bad_number, { example: answer.example });
      return;
    }
    if (answer.read_as) lines.push(fill(T.read_as, { number: answer.read_as }));
    if (answer.kind === "voicemail") lines.push(`${T.answer_voicemail} ${quote(answer.text)}`);
    else if (answer.kind === "rejected") lines.push(T.answer_rejected);
    else if (answer.kind === "message") lines.push(`${T.answer_message} ${quote(answer.text)}`);
    else if (answer.kind === "refused") lines.push(`${T.answer_refused} ${T.outcomes[answer.reason]}`);
    else lines.push(T.answer_nothing);
    if (answer.outcomes && answer.outcomes.length) {
      lines.push(`${T.answer_outcome} ${said(answer.outcomes)}`);
    }
    if (answer.kind !== "refused") {
      lines.push(answer.reply_due_in === null ? T.answer_no_reply
        : fill(T.answer_due, { s: num(answer.reply_due_in) }));
      if (answer.reply_due_in !== null) waiting = { to: answer.to, known, lines };
    }
    $("answer").textContent = lines.join("\n");
  }

  // The reply reached the fake phone provider's outbox: the panel says it arrived.
  function showArrival(messages) {
    if (!waiting) return;
    const reply = messages.find((m) => m.to === waiting.to && !waiting.known.has(m.sid));
    if (!reply) return;
    const lines = waiting.lines.slice(0, -1);
    lines.push(fill(T.answer_arrived, { text: reply.text }));
    $("answer").textContent = lines.join("\n");
    $("answer").dataset.arrived = "true";
    waiting = null;
  }

  async function send(kind, button) {
    const form = $("phone-form");
    if (!form.reportValidity()) return;
    busy(button, true);
    $("answer").textContent = T.sending;
    const payload = { campaign: $("campaign").value, from: $("from").value };
    if (kind === "sms") Object.assign(payload, { body: $("body").value, forged: $("forged").checked });
    const known = new Set(outboxSids);
    delete $("answer").dataset.arrived;
    try {
      showAnswer(await post(`/_local/console/${kind}`, payload), known);
    } catch (error) {
      $("answer").textContent = `${T.error} ${error.message}`;
    } finally {
      busy(button, false);
      refresh();
    }
  }

  let outboxSids = [];
  function renderOutbox(messages) {
    outboxSids = messages.map((m) => m.sid);
    showArrival(messages);
    const body = $("outbox").tBodies[0];
    const rows = messages.slice().reverse().map((m) => {
      const row = document.createElement("tr");
      row.dataset.sid = m.sid;
      cell(row, m.time);
      cell(row, m.to);
      cell(row, m.campaign);
      cell(row, m.text);
      const status = T[`status_${m.status}`] || m.status;
      cell(row, m.error_code ? `${status} (${m.error_code})` : status, "td", `status-${m.status}`);
      return row;
    });
    if (!rows.length) {
      const row = document.createElement("tr");
      cell(row, T.outbox_empty).colSpan = 5;
      rows.push(row);
    }
    body.replaceChildren(...rows);
  }

  function renderCounters(state) {
    const body = $("counters").tBodies[0];
    const line = (name, counts, header) => {
      const row = document.createElement("tr");
      cell(row, name, "th").scope = "row";
      state.columns.forEach((key) => cell(row, String(counts[key] ?? 0)));
      if (header) row.className = "total";
      return row;
    };
    // A pool's number: 'fr-be · bar-le-central', as console.py's row_name writes it.
    const name = (c) => (c.label === undefined ? c.campaign
      : `${c.campaign} · ${c.label}${c.retired ? ` ${T.number_retired}` : ""}`);
    body.replaceChildren(...state.campaigns.map((c) => line(name(c), c.counts)),
      line(T.total_row, state.total, true));
  }

  function renderControls(state) {
    const { used, limit, left } = state.budget;
    const bar = $("budget-bar");
    bar.max = limit;
    bar.value = Math.min(used, limit);
    bar.classList.toggle("spent", left === 0);
    $("budget-text").textContent = fill(T.budget_text, { used, limit, left });
    const on = state.kill_switch;
    const cache = state.kill_switch_cache_seconds;
    $("kill-switch").setAttribute("aria-checked", on ? "true" : "false");
    $("kill-switch").textContent = on ? T.kill_button_start : T.kill_button_stop;
    // Honest about the receiver's cache: until it has passed, a text may still be planned.
    const settling = on && switchedOffAt !== null
      ? Math.ceil(cache - (Date.now() - switchedOffAt) / 1000) : 0;
    $("kill-state").textContent = !on ? T.kill_off
      : settling > 0 ? fill(T.kill_settling, { s: settling }) : T.kill_on;
    $("kill-state").classList.toggle("on", on);
    $("kill-note").textContent = cache > 0 ? fill(T.kill_note, { s: cache }) : T.kill_note_now;
    $("pending").textContent = fill(T.pending, { n: state.pending });
    const air = state.off_air;
    $("air-state").textContent = air.off > 0
      ? fill(T.air_off, { n: air.off, total: air.numbers }) : T.air_on;
    $("air-state").classList.toggle("on", air.off > 0);
    $("air-state").dataset.off = String(air.off);
  }

  let polling = null;
  let switchedOffAt = null;
  async function refresh() {
    try {
      const response = await fetch("/_local/console/state", { cache: "no-store" });
      if (!response.ok) return;
      const state = await response.json();
      renderOutbox(state.outbox);
      renderCounters(state);
      renderControls(state);
      document.body.dataset.ready = "true";
    } catch (error) {
      // The stack stopped or restarts: the next poll tells.
    }
  }

  $("phone-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send("sms", $("send-sms"));
  });
  $("call").addEventListener("click", () => send("call", $("call")));
  $("skip").addEventListener("click", async () => {
    busy($("skip"), true);
    try { await post("/_local/console/skip", {}); } finally { busy($("skip"), false); refresh(); }
  });
  $("kill-switch").addEventListener("click", async () => {
    const button = $("kill-switch");
    busy(button, true);
    try {
      const on = button.getAttribute("aria-checked") !== "true";
      await post("/_local/console/kill-switch", { on });
      switchedOffAt = on ? Date.now() : null;
    } catch (error) {
      $("kill-state").textContent = `${T.error} ${error.message}`;
    } finally { busy(button, false); refresh(); }
  });
  $("flood-note").textContent = fill(T.flood_note, { max: $("flood-count").max });
  $("flood-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("flood");
    busy(button, true);
    $("flood-result").textContent = T.flood_running;
    try {
      const result = await post("/_local/console/flood", {
        campaign: $("campaign").value, count: Number($("flood-count").value),
      });
      const outcomes = Object.entries(result.outcomes).filter(([k]) => T.outcomes[k])
        .map(([k, v]) => `${v} × ${T.outcomes[k]}`).join(" ");
      $("flood-result").textContent = fill(T.flood_done,
        { n: result.sent, s: num(result.seconds), outcomes });
      $("flood-result").dataset.done = "true";
    } catch (error) {
      $("flood-result").textContent = `${T.error} ${error.message}`;
    } finally { busy(button, false); refresh(); }
  });

  $("spending-alert").addEventListener("click", async () => {
    const button = $("spending-alert");
    busy(button, true);
    try {
      const result = await post("/_local/console/spending-alert", {});
      $("alert-result").textContent = result.fired > 0
        ? fill(T.alert_sent, { s: result.due_in }) : T.alert_none;
    } catch (error) {
      $("alert-result").textContent = `${T.error} ${error.message}`;
    } finally { busy(button, false); refresh(); }
  });

  refresh();
  polling = setInterval(refresh, POLL_MS);
  window.addEventListener("beforeunload", () => clearInterval(polling));
})();
