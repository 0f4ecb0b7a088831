// The popup: every window with its percentage, bar and reset countdown, from the view the
// service worker keeps in storage.local; "not paired", "app not running" and "token revoked"
// each say what to do. Countdowns tick every second from resets_at.
"use strict";

const palette = applyTheme();
let view = null;

const MESSAGES = {
  not_paired: "Not paired with Claude Watch yet. Run claude-watch serve --pair (or use the app's Settings) and paste the code in the options.",
  revoked: "Claude Watch no longer accepts this browser's token (it was revoked, e.g. by claude-watch serve --new-token). Pair again in the options.",
  offline: "Claude Watch is not running: nothing answers on 127.0.0.1:{port}. Start the tray app or claude-watch serve.",
  error: "Claude Watch answered with something unexpected: {detail}",
};

function stateNotice(v) {
  const state = v ? v.state : "not_paired";
  if (state === "ok") return null;
  const text = (MESSAGES[state] || MESSAGES.error).replace("{port}", v && v.port).replace("{detail}", (v && v.detail) || "");
  const box = el("div", { class: state === "offline" ? "notice" : "notice error", "data-state": state }, text);
  if (state === "not_paired" || state === "revoked") {
    const button = el("button", { id: "open-options" }, "Pair in options");
    button.addEventListener("click", () => api.runtime.openOptionsPage());
    box.append(el("div", {}, button));
  }
  return box;
}

function windowRow(w, old) {
  const pct = Math.round(w.utilization);
  const colour = palette.levels[w.level] || palette.levels.stale;
  const fill = el("span", { style: "width:" + Math.max(0, Math.min(100, w.utilization)) + "%;background:" + colour });
  return el(
    "div",
    { class: old ? "window stale" : "window", "data-window": w.id, "data-level": w.level },
    el("div", { class: "row" }, el("span", { class: "label" }, w.label), el("span", { class: "pct", style: "color:" + colour }, pct + "%")),
    el("div", { class: "bar" }, fill),
    el("div", { class: "muted reset" }, "resets in " + CW.formatCountdown(CW.secondsUntil(w.resets_at, Date.now()))),
  );
}

function render() {
  const stateBox = document.getElementById("state");
  const list = document.getElementById("windows");
  const footer = document.getElementById("footer");
  const notice = stateNotice(view);
  stateBox.replaceChildren(...(notice ? [notice] : []));
  const status = view && view.state !== "not_paired" ? view.status : null;
  const old = !view || view.state !== "ok";
  list.replaceChildren(...(status ? status.windows.map((w) => windowRow(w, old)) : []));
  if (!status) {
    footer.textContent = "";
    return;
  }
  const age = (status.age_seconds || 0) + (Date.now() - view.updated_at) / 1000;
  const parts = [(old ? "last seen " : "updated ") + CW.formatAgo(age)];
  if (status.plan) parts.unshift(status.plan);
  if (status.error && status.error.message) parts.push(status.error.message);
  footer.textContent = parts.join(" · ");
}

async function load() {
  ({ view } = await api.storage.local.get("view"));
  render();
}

api.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && changes.view) {
    view = changes.view.newValue || null;
    render();
  }
});
setInterval(render, 1000);
load();
api.runtime.sendMessage({ type: "refresh" }).catch(() => {});
