// Shared by the popup and the options page: the theme (light or dark, as the browser prefers)
// and small DOM helpers. Text always goes in through textContent, never as HTML.
"use strict";

const api = globalThis.browser || globalThis.chrome;

function applyTheme() {
  const dark = globalThis.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches;
  const palette = dark ? CW_COLOURS.DARK : CW_COLOURS.LIGHT;
  const style = document.documentElement.style;
  for (const key of ["bg", "surface", "border", "text", "muted", "track", "accent", "error_bg", "error_text"]) {
    style.setProperty("--" + key.replace("_", "-"), palette[key]);
  }
  return palette;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}
