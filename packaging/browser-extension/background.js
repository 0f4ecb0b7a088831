// The extension's one reader of the local API (Chromium: MV3 service worker; Firefox: the
// background scripts list loads colours.js and common.js first). It keeps a live /v1/events
// stream open while the worker is awake, and an alarm every minute asks /v1/status again and
// reopens the stream, because MV3 service workers sleep. What it learns goes to
// storage.local "view" ({state, status, port, updated_at}); the popup renders that.
"use strict";

if (typeof importScripts === "function") importScripts("colours.js", "common.js");

const api = globalThis.browser || globalThis.chrome;
const ALARM = "cw-refresh";
let stream = null; // {controller, port, token} while an events stream is open

async function pairing() {
  const { pairing } = await api.storage.local.get("pairing");
  return pairing && typeof pairing.token === "string" && Number.isInteger(pairing.port) ? pairing : null;
}

// The body as text, refusing more than CW.MAX_BODY bytes (read in chunks, never all at once).
async function readCapped(response) {
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > CW.MAX_BODY) {
      reader.cancel();
      throw new Error("response too large");
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

async function publish(view) {
  const { view: old } = await api.storage.local.get("view");
  // Offline or revoked keeps the last numbers, marked with the state, so the popup can show them as old.
  if (!view.status && old && old.status && view.state !== "not_paired") view.status = old.status;
  view.updated_at = Date.now();
  await api.storage.local.set({ view: view });
  const badge = CW.badgeFor(view, CW_COLOURS);
  await api.action.setBadgeText({ text: badge.text });
  await api.action.setBadgeBackgroundColor({ color: badge.colour });
  if (api.action.setBadgeTextColor) await api.action.setBadgeTextColor({ color: "#ffffff" });
  await api.action.setTitle({ title: badge.title });
}

async function notifyCrossings(status) {
  const { alerted } = await api.storage.local.get("alerted");
  const result = CW.crossings(status, alerted || {});
  await api.storage.local.set({ alerted: result.alerted });
  if (status.desktop_notifications) return; // the desktop app already tells the user
  for (const note of result.notes) {
    const w = note.window;
    await api.notifications.create("cw-" + w.id + "-" + note.threshold, {
      type: "basic",
      iconUrl: api.runtime.getURL("icons/icon-128.png"),
      title: "Claude " + w.label + ": " + Math.round(w.utilization) + "% used",
      message: "Crossed " + note.threshold + "%. Resets in " + CW.formatCountdown(CW.secondsUntil(w.resets_at, Date.now())) + ".",
    });
  }
}

async function accept(text, port) {
  const status = CW.checkStatus(text);
  await publish({ state: "ok", status: status, port: port });
  await notifyCrossings(status);
}

// One GET /v1/status; the view says what happened (ok, offline, revoked, error).
async function refresh() {
  const p = await pairing();
  if (!p) return publish({ state: "not_paired", status: null, port: null });
  let response;
  try {
    response = await fetch("http://127.0.0.1:" + p.port + "/v1/status", {
      headers: { Authorization: "Bearer " + p.token },
      cache: "no-store",
      credentials: "omit",
    });
  } catch (err) {
    return publish({ state: "offline", status: null, port: p.port });
  }
  if (response.status === 401 || response.status === 403) return publish({ state: "revoked", status: null, port: p.port });
  try {
    if (!response.ok) throw new Error("HTTP " + response.status);
    await accept(await readCapped(response), p.port);
  } catch (err) {
    await publish({ state: "error", status: null, port: p.port, detail: String(err.message || err).slice(0, 200) });
  }
  ensureStream(p); // runs as long as the stream stays open; not awaited
}

// The events stream through fetch (EventSource cannot send the Authorization header).
async function ensureStream(p) {
  if (stream && stream.port === p.port && stream.token === p.token) return;
  if (stream) stream.controller.abort();
  const current = { controller: new AbortController(), port: p.port, token: p.token };
  stream = current;
  try {
    const response = await fetch("http://127.0.0.1:" + p.port + "/v1/events", {
      headers: { Authorization: "Bearer " + p.token, Accept: "text/event-stream" },
      cache: "no-store",
      credentials: "omit",
      signal: current.controller.signal,
    });
    if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const feed = CW.sseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of feed(value)) {
        if (ev.event === "status") await accept(ev.data, p.port).catch(() => {});
      }
    }
  } catch (err) {
    // Dropped, aborted or refused: the next alarm (or message) asks /v1/status and reopens it.
  } finally {
    if (stream === current) stream = null;
  }
}

function start() {
  api.alarms.create(ALARM, { periodInMinutes: 1 });
  refresh();
}

api.runtime.onInstalled.addListener(start);
api.runtime.onStartup.addListener(start);
api.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARM) refresh();
});
api.runtime.onMessage.addListener((message, sender, reply) => {
  if (sender.id !== api.runtime.id || !message || message.type !== "refresh") return false;
  if (stream) stream.controller.abort();
  stream = null;
  refresh().then(
    () => reply({ ok: true }),
    (err) => reply({ ok: false, error: String(err) }),
  );
  return true; // the reply comes later
});
refresh();
