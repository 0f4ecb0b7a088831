// Pairing: the user pastes the code `claude-watch serve --pair` prints; POST /v1/pair trades it
// for this extension's own token, kept in storage.local (never the app's main token). Every
// answer is untrusted: a capped body, a token of the expected shape, a port in range.
"use strict";

applyTheme();
const HOSTS = { origins: ["http://127.0.0.1/*", "http://localhost/*"] };

function show(text, isError) {
  const box = document.getElementById("result");
  box.replaceChildren(el("div", { class: isError ? "notice error" : "notice", "data-ok": isError ? "false" : "true" }, text));
}

function clientName() {
  return /firefox/i.test(navigator.userAgent) ? "Firefox extension" : "Chromium extension";
}

// Firefox may ask the user for the host permissions, and only while handling the click: so this
// runs before any await. Chromium grants them at install (and refuses a request made by a script
// rather than a click: then what counts is whether they are granted).
function ensureHosts() {
  try {
    return Promise.resolve(api.permissions.request(HOSTS)).catch(() => api.permissions.contains(HOSTS));
  } catch (err) {
    return api.permissions.contains(HOSTS);
  }
}

async function pair(port, code) {
  let response;
  try {
    response = await fetch("http://127.0.0.1:" + port + "/v1/pair", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: code, name: clientName() }),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (err) {
    throw new Error("Nothing answers on 127.0.0.1:" + port + ". Is the Claude Watch app or claude-watch serve running, on that port?");
  }
  if (response.status === 429) throw new Error("Too many wrong codes: wait a minute, then try again.");
  if (!response.ok) throw new Error("Claude Watch did not accept this code (wrong, used or expired: codes work once, for 5 minutes). Make a new one with claude-watch serve --pair.");
  const text = await response.text();
  if (text.length > 4096) throw new Error("Claude Watch's answer was not understood.");
  const doc = JSON.parse(text);
  const token = doc && doc.token;
  if (typeof token !== "string" || !/^[A-Za-z0-9_-]{16,256}$/.test(token)) throw new Error("Claude Watch's answer had no usable token.");
  const answeredPort = Number.isInteger(doc.port) && doc.port > 0 && doc.port < 65536 ? doc.port : port;
  return { port: answeredPort, token: token, paired_at: new Date().toISOString() };
}

async function showPaired() {
  const { pairing } = await api.storage.local.get("pairing");
  const box = document.getElementById("paired");
  if (!pairing) {
    box.replaceChildren(el("p", { class: "muted", id: "pair-state" }, "Not paired yet."));
    return;
  }
  const forget = el("button", { class: "plain", id: "forget", type: "button" }, "Forget this pairing");
  forget.addEventListener("click", async () => {
    await api.storage.local.remove(["pairing", "view", "alerted"]);
    await api.runtime.sendMessage({ type: "refresh" }).catch(() => {});
    show("Forgotten. The app keeps the client until its token is rotated (claude-watch serve --new-token).", false);
    showPaired();
  });
  box.replaceChildren(el("p", { class: "muted", id: "pair-state" }, "Paired with Claude Watch on port " + pairing.port + " since " + pairing.paired_at + "."), forget);
}

document.getElementById("pair-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const parsed = CW.parsePairing(document.getElementById("code").value, document.getElementById("port").value);
  if (parsed.error) return show(parsed.error, true);
  const hosts = ensureHosts(); // still inside the click (see ensureHosts)
  try {
    if (!(await hosts)) return show("The extension needs access to 127.0.0.1 to read Claude Watch.", true);
    const pairing = await pair(parsed.port, parsed.code);
    await api.storage.local.set({ pairing: pairing });
    await api.storage.local.remove(["view", "alerted"]); // a new source: its crossings start afresh
    const reply = await api.runtime.sendMessage({ type: "refresh" });
    const { view } = await api.storage.local.get("view");
    const ok = reply && reply.ok && view && view.state === "ok";
    show(ok ? "Paired. The toolbar badge shows your usage now." : "Paired, but the first update failed: " + ((view && view.state) || "no answer") + ".", !ok);
    document.getElementById("code").value = "";
  } catch (err) {
    show(String(err.message || err), true);
  }
  showPaired();
});
showPaired();
