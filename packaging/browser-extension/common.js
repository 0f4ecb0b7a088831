// Pure helpers shared by the service worker, the popup and the options page (and unit-tested
// under node by tests/unit/packaging/test_browser_extension_js.py). No browser API in here:
// everything the API sends is untrusted, so it is size-capped and checked before use.
"use strict";

var CW = (function () {
  const MAX_BODY = 256 * 1024; // a status document is a few KiB
  const MAX_WINDOWS = 16;
  const LEVELS = ["ok", "warning", "critical", "at_limit", "stale", "error"];
  const COMBINED_RE = /^\s*(\d{1,5})\s*:\s*(\d{3})\s*-?\s*(\d{3})\s*$/;
  const BARE_RE = /^\s*(\d{3})\s*-?\s*(\d{3})\s*$/;
  const IN_TEXT_COMBINED_RE = /(?:^|[^\d.])(\d{1,5}):(\d{3})-(\d{3})(?![\d-])/;
  const IN_TEXT_RE = /(?:^|[^\d-])(\d{3})-(\d{3})(?![\d-])/;
  const URL_PORT_RE = /(?:127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})(?!\d)/;

  // What the user pastes: "PORT:NNN-NNN", "NNN-NNN" (the port in its own field), or the lines
  // `claude-watch serve --pair` prints ("Pairing code: PORT:NNN-NNN ..."; older: "...at
  // http://127.0.0.1:PORT/" and "Pairing code: NNN-NNN ...").
  function parsePairing(text, portText) {
    const s = String(text || "").slice(0, 2000);
    let m = COMBINED_RE.exec(s) || IN_TEXT_COMBINED_RE.exec(s);
    let portSource = m ? m[1] : null;
    if (!m) m = BARE_RE.exec(s) || IN_TEXT_RE.exec(s);
    if (!m) return { error: "Paste the pairing code: NNN-NNN, or PORT:NNN-NNN, as claude-watch serve --pair prints it." };
    const code = portSource ? m[2] + "-" + m[3] : m[1] + "-" + m[2];
    if (!portSource) {
      const url = URL_PORT_RE.exec(s);
      portSource = url ? url[1] : String(portText || "").trim();
    }
    if (!/^\d{1,5}$/.test(portSource)) return { error: "Enter the port Claude Watch listens on (claude-watch serve prints it in its URL)." };
    const port = Number(portSource);
    if (port < 1 || port > 65535) return { error: "The port must be between 1 and 65535." };
    return { port: port, code: code };
  }

  // core/humanize.format_duration: two largest units, cut, not rounded.
  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    const total = Math.max(0, Math.floor(seconds));
    const days = Math.floor(total / 86400);
    const hours = Math.floor((total % 86400) / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    if (days) return hours ? days + " d " + hours + " h" : days + " d";
    if (hours) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    if (minutes) return minutes + " min";
    return total + " s";
  }

  function formatCountdown(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    return Math.floor(seconds) <= 0 ? "now" : formatDuration(seconds);
  }

  function formatAgo(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "never";
    if (seconds < 45) return "just now";
    const minutes = Math.max(1, Math.round(seconds / 60));
    if (minutes < 60) return minutes + " min ago";
    const hours = Math.round(seconds / 3600);
    if (hours < 24) return hours + " h ago";
    return Math.round(seconds / 86400) + " d ago";
  }

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function str(v, max) {
    return typeof v === "string" ? v.slice(0, max || 200) : null;
  }

  function num(v) {
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  function thresholdList(v) {
    if (!Array.isArray(v)) return [];
    return v.filter((t) => typeof t === "number" && t > 0 && t <= 100).slice(0, 20).sort((a, b) => a - b);
  }

  // The status document, kept to the fields we show; anything malformed throws (last good data stays).
  function checkStatus(text) {
    if (typeof text !== "string" || text.length > MAX_BODY) throw new Error("status document too large");
    const doc = JSON.parse(text);
    if (!isObject(doc) || !Array.isArray(doc.windows)) throw new Error("not a status document");
    const windows = doc.windows.slice(0, MAX_WINDOWS).map((w) => {
      if (!isObject(w) || typeof w.id !== "string" || num(w.utilization) === null) throw new Error("bad window");
      return {
        id: w.id.slice(0, 80),
        label: str(w.label, 80) || w.id.slice(0, 80),
        kind: str(w.kind, 40) || "",
        utilization: w.utilization,
        resets_at: str(w.resets_at, 40),
        level: LEVELS.indexOf(w.level) >= 0 ? w.level : "stale",
      };
    });
    const thresholds = {};
    if (isObject(doc.thresholds)) {
      for (const key of Object.keys(doc.thresholds).slice(0, 10)) thresholds[key.slice(0, 40)] = thresholdList(doc.thresholds[key]);
    } else if (Array.isArray(doc.thresholds)) {
      thresholds["*"] = thresholdList(doc.thresholds);
    }
    const error = isObject(doc.error) ? { kind: str(doc.error.kind, 40), message: str(doc.error.message, 300) } : null;
    return {
      windows: windows,
      binding: str(doc.binding, 80),
      stale: doc.stale === true,
      age_seconds: num(doc.age_seconds),
      fetched_at: str(doc.fetched_at, 40),
      plan: str(doc.plan, 80),
      error: error,
      desktop_notifications: doc.desktop_notifications !== false,
      thresholds: thresholds,
    };
  }

  function bindingWindow(status) {
    if (!status || !status.windows.length) return null;
    return status.windows.find((w) => w.id === status.binding) || status.windows[0];
  }

  // The toolbar badge for a view {state, status, port}: text, colour and tooltip.
  function badgeFor(view, colours) {
    const grey = colours.BADGE.stale;
    const state = view && view.state;
    if (!state || state === "not_paired") return { text: "?", colour: grey, title: "Claude Watch: not paired. Open the options to pair." };
    if (state === "revoked") return { text: "!", colour: colours.BADGE.at_limit, title: "Claude Watch: this browser's token was revoked. Pair again in the options." };
    const w = bindingWindow(view.status);
    if (state === "offline") {
      return { text: "off", colour: grey, title: "Claude Watch is not running on port " + view.port + " (start the app or claude-watch serve)." };
    }
    if (!w) return { text: "!", colour: colours.BADGE.error, title: "Claude Watch: no usage numbers yet." };
    const pct = Math.round(w.utilization);
    return {
      text: pct + "%",
      colour: colours.BADGE[w.level] || grey,
      title: "Claude Watch: " + w.label + " " + pct + "%, resets in " + formatCountdown(secondsUntil(w.resets_at, Date.now())),
    };
  }

  function secondsUntil(iso, nowMs) {
    if (!iso) return null;
    const t = Date.parse(iso);
    return isNaN(t) ? null : (t - nowMs) / 1000;
  }

  function thresholdsFor(status, kind) {
    const t = status.thresholds;
    if (t[kind]) return t[kind];
    if (kind === "weekly_scoped" && t.weekly) return t.weekly;
    if (kind === "weekly" && t.seven_day) return t.seven_day;
    return t["*"] || [];
  }

  // core/alert_policy's rules: readings whose resets_at differ by less than 10 minutes are the
  // same window instance (the endpoint's resets_at jitters between polls).
  const INSTANCE_TOLERANCE_MS = 10 * 60 * 1000;

  function sameInstance(a, b) {
    if (!a || !b) return a === b;
    const ta = Date.parse(a);
    const tb = Date.parse(b);
    return !isNaN(ta) && !isNaN(tb) && Math.abs(ta - tb) < INSTANCE_TOLERANCE_MS;
  }

  // Which thresholds each window crossed since the last status, as the app's alert policy says:
  // once per window instance, a jump over several gives one note for the highest, stale or failed
  // readings never fire. alerted maps a window id to {resets_at, highest}. Whether the desktop app
  // already notifies is the caller's business (the records still move, so switching it off later
  // does not replay old crossings).
  function crossings(status, alerted) {
    const next = {};
    const notes = [];
    for (const w of status.windows) {
      const before = alerted[w.id];
      const highestBefore = before && sameInstance(before.resets_at, w.resets_at) ? before.highest : 0;
      if (status.stale || w.level === "stale" || w.level === "error") {
        if (before) next[w.id] = before;
        continue;
      }
      const reached = thresholdsFor(status, w.kind).filter((t) => w.utilization >= t);
      const highest = reached.length ? reached[reached.length - 1] : 0;
      if (highest > highestBefore) notes.push({ window: w, threshold: highest });
      next[w.id] = { resets_at: w.resets_at, highest: Math.max(highest, highestBefore) };
    }
    return { notes: notes, alerted: next };
  }

  // Incremental Server-Sent Events parser: feed it text, it returns complete events.
  function sseParser(maxBuffer) {
    let buffer = "";
    return function feed(chunk) {
      buffer += chunk;
      if (buffer.length > (maxBuffer || MAX_BODY)) throw new Error("event too large");
      const events = [];
      let m;
      while ((m = /\r?\n\r?\n/.exec(buffer)) !== null) {
        const block = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        let name = "message";
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (!line || line[0] === ":") continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = value;
          else if (field === "data") data.push(value);
        }
        if (data.length) events.push({ event: name, data: data.join("\n") });
      }
      return events;
    };
  }

  return {
    MAX_BODY: MAX_BODY,
    parsePairing: parsePairing,
    formatDuration: formatDuration,
    formatCountdown: formatCountdown,
    formatAgo: formatAgo,
    checkStatus: checkStatus,
    bindingWindow: bindingWindow,
    badgeFor: badgeFor,
    secondsUntil: secondsUntil,
    thresholdsFor: thresholdsFor,
    crossings: crossings,
    sseParser: sseParser,
  };
})();

if (typeof module !== "undefined") module.exports = CW;
