// The local console: posts to /_local/console/*, polls its state; no library, no build.
"use strict";

(() => {
  const T = JSON.parse(document.getElementById("strings").dataset.strings);
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1000;

  const fill = (text, values) =>
    text.replace(/\{(\w+)\}/g, (_, key) => (key in values ? String(values[key]) : ""));

  async function post(path, payload) {
    const response = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.message || `HTTP ${response.status}`);
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

  function showAnswer(answer) {
    const lines = [];
    if (answer.kind === "voicemail") lines.push(`${T.answer_voicemail} «${answer.text}»`);
    else if (answer.kind === "rejected") lines.push(T.answer_rejected);
    else if (answer.kind === "message") lines.push(`${T.answer_message} «${answer.text}»`);
    else if (answer.kind === "refused") lines.push(`${T.answer_refused} ${answer.http}: ${answer.text}`);
    else lines.push(T.answer_nothing);
    if (answer.outcomes && answer.outcomes.length) {
      // The sentence a person reads (served from decoy.outcomes), the code after it.
      const said = answer.outcomes.map((code) => (T.outcomes && T.outcomes[code]
        ? `${T.outcomes[code]} (${code})` : code));
      lines.push(`${T.answer_outcome} ${said.join(" ")}`);
    }
    if (answer.kind !== "refused") {
      lines.push(answer.reply_due_in === null ? T.answer_no_reply
        : fill(T.answer_due, { s: Math.round(answer.reply_due_in * 10) / 10 }));
    }
    $("answer").textContent = lines.join("\n");
  }

  async function send(kind, button) {
    const form = $("phone-form");
    if (!form.reportValidity()) return;
    busy(button, true);
    $("answer").textContent = T.sending;
    const payload = { campaign: $("campaign").value, from: $("from").value };
    if (kind === "sms") Object.assign(payload, { body: $("body").value, forged: $("forged").checked });
    try {
      showAnswer(await post(`/_local/console/${kind}`, payload));
    } catch (error) {
      $("answer").textContent = `${T.error} ${error.message}`;
    } finally {
      busy(button, false);
      refresh();
    }
  }

  function renderOutbox(messages) {
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
    body.replaceChildren(...state.campaigns.map((c) => line(c.campaign, c.counts)),
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
    $("kill-switch").setAttribute("aria-checked", on ? "true" : "false");
    $("kill-state").textContent = on ? T.kill_on : T.kill_off;
    $("kill-state").classList.toggle("on", on);
    $("kill-note").textContent = fill(T.kill_note, { s: state.kill_switch_cache_seconds });
    $("pending").textContent = fill(T.pending, { n: state.pending });
  }

  let polling = null;
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
      await post("/_local/console/kill-switch", { on: button.getAttribute("aria-checked") !== "true" });
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
      const http = Object.entries(result.http).map(([k, v]) => `${k}×${v}`).join(", ");
      const outcomes = Object.entries(result.outcomes).map(([k, v]) => `${k} ${v}`).join(", ");
      $("flood-result").textContent = fill(T.flood_done,
        { n: result.sent, s: result.seconds, http, outcomes });
      $("flood-result").dataset.done = "true";
    } catch (error) {
      $("flood-result").textContent = `${T.error} ${error.message}`;
    } finally { busy(button, false); refresh(); }
  });

  refresh();
  polling = setInterval(refresh, POLL_MS);
  window.addEventListener("beforeunload", () => clearInterval(polling));
})();
