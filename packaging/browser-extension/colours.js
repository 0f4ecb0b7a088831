// Level colours, copied from trayapp/core/palette.py (tests/unit/packaging/test_browser_extension_manifest.py
// compares them): BADGE is the tray icon's ring (theme.ICON), LIGHT and DARK the popup's palettes.
"use strict";

var CW_COLOURS = {
  BADGE: {
    ok: "#2ea043",
    warning: "#d29922",
    critical: "#f0642e",
    at_limit: "#e5383b",
    stale: "#8b949e",
    error: "#8b949e",
  },
  LIGHT: {
    bg: "#ffffff",
    surface: "#f6f8fa",
    border: "#d0d7de",
    text: "#1f2328",
    muted: "#656d76",
    track: "#e6e9ed",
    accent: "#d97757",
    error_bg: "#ffebe9",
    error_text: "#82071e",
    levels: {
      ok: "#1a7f37",
      warning: "#bf8700",
      critical: "#d1480f",
      at_limit: "#cf222e",
      stale: "#8c959f",
      error: "#8c959f",
    },
  },
  DARK: {
    bg: "#1c2026",
    surface: "#252a31",
    border: "#3a414a",
    text: "#e6edf3",
    muted: "#9198a1",
    track: "#353c45",
    accent: "#e8906f",
    error_bg: "#3d1618",
    error_text: "#ffa198",
    levels: {
      ok: "#3fb950",
      warning: "#d29922",
      critical: "#f0783e",
      at_limit: "#f85149",
      stale: "#7d8590",
      error: "#7d8590",
    },
  },
};

if (typeof module !== "undefined") module.exports = CW_COLOURS;
