"""The browser extension's source without a browser (issue 17 item 3).

The manifest must load in Chromium and Firefox from one file; its colours must be the app's
(``core/palette.py``); its pages may load nothing from outside; and the pure helpers in
``common.js`` run under node here (the real JavaScript, not a Python copy), cross-checked
against ``core/humanize`` for the wording of countdowns. The packed zip is built for real.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from trayapp.core.humanize import format_countdown, format_duration
from trayapp.core.models import Level
from trayapp.ui.theme import DARK, ICON, LIGHT

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
EXT = PACKAGING / "browser-extension"
EXTENSION_ID = "ambagjgmgmhcaiojlkoaogpfnnlpjcno"  # what tests/integration/test_browser_extension.py opens
NODE = shutil.which("node")


def _build_module() -> Any:
    # packaging/ is not a package (and "packaging" is also a PyPI library): load the script by path.
    spec = importlib.util.spec_from_file_location("build_extension", PACKAGING / "build_extension.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_extension = _build_module()
build = build_extension.build
manifest_version = build_extension.manifest_version


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXT / "manifest.json").read_text(encoding="utf-8"))
    return data


def extension_id(key_b64: str) -> str:
    """Chromium's id for an unpacked extension with a ``key``: sha256 of the DER key, a-p digits."""
    digest = hashlib.sha256(base64.b64decode(key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def test_manifest_is_mv3_for_both_browsers() -> None:
    m = manifest()
    assert m["manifest_version"] == 3
    assert m["name"]
    assert m["description"]
    assert re.fullmatch(r"\d+(\.\d+){0,3}", m["version"])
    # Chromium runs the service worker; Firefox (no MV3 service workers) the scripts list, which
    # must load what the worker pulls in with importScripts, in the same order.
    worker = m["background"]["service_worker"]
    scripts = m["background"]["scripts"]
    assert scripts[-1] == worker
    imported = re.search(r"importScripts\(([^)]*)\)", (EXT / worker).read_text())
    assert imported is not None
    assert [s.strip().strip('"') for s in imported.group(1).split(",")] == scripts[:-1]
    gecko = m["browser_specific_settings"]["gecko"]
    assert re.fullmatch(r"[\w.-]+@[\w.-]+", gecko["id"])
    # Firefox 140 (ESR) reads data_collection_permissions, which addons.mozilla.org requires.
    assert int(gecko["strict_min_version"].split(".")[0]) >= 140
    assert gecko["data_collection_permissions"] == {"required": ["none"]}
    assert m["host_permissions"] == ["http://127.0.0.1/*", "http://localhost/*"]
    assert set(m["permissions"]) == {"storage", "alarms", "notifications"}
    assert extension_id(m["key"]) == EXTENSION_ID
    referenced = [
        worker,
        *scripts,
        m["action"]["default_popup"],
        m["options_ui"]["page"],
        *m["icons"].values(),
        *m["action"]["default_icon"].values(),
    ]
    for name in referenced:
        assert (EXT / name).is_file(), name
    for size, name in m["icons"].items():
        png = (EXT / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png[16:20], "big") == int(size), name  # IHDR width


def test_pages_load_nothing_from_outside_and_run_no_inline_script() -> None:
    for page in sorted(EXT.glob("*.html")):
        html = page.read_text(encoding="utf-8")
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert scripts, page.name
        for attrs, body in scripts:
            src = re.search(r'src="([^"]+)"', attrs)
            assert src is not None, f"script without src in {page.name}"
            assert not body.strip(), f"inline script in {page.name}"
            assert (EXT / src.group(1)).is_file()
        assert not re.search(r"\son\w+\s*=", html), f"inline handler in {page.name}"
        assert not re.search(r'(src|href)="(https?:)?//', html), f"remote asset in {page.name}"
    for source in [*EXT.glob("*.js"), *EXT.glob("*.css")]:
        text = source.read_text(encoding="utf-8")
        assert "innerHTML" not in text, source.name
        assert "eval(" not in text, source.name
        assert not re.search(r"https://", text), source.name
        assert "@import" not in text, source.name
        assert "url(" not in text, source.name
    assert "script-src 'self'" in manifest()["content_security_policy"]["extension_pages"]


def js_colours() -> dict[str, Any]:
    text = (EXT / "colours.js").read_text(encoding="utf-8")
    literal = text[text.index("{", text.index("CW_COLOURS")) : text.index("};") + 1]
    # The object is written as JSON with bare keys and trailing commas; make it JSON.
    literal = re.sub(r"(\w+):", r'"\1":', literal)
    literal = re.sub(r",(\s*[}\]])", r"\1", literal)
    data: dict[str, Any] = json.loads(literal)
    return data


def test_colours_are_the_apps() -> None:
    colours = js_colours()
    assert colours["BADGE"] == {str(level): ICON.levels[level] for level in Level}
    for name, theme in (("LIGHT", LIGHT), ("DARK", DARK)):
        palette = colours[name]
        assert palette["levels"] == {str(level): theme.levels[level] for level in Level}
        for key in ("bg", "surface", "border", "text", "muted", "track", "accent", "error_bg", "error_text"):
            assert palette[key] == getattr(theme, key), (name, key)


def node(script: str) -> Any:
    if NODE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: node is not installed (the extension's JavaScript runs under it)")
        pytest.skip("node is not installed")
    prelude = f"const CW = require({json.dumps(str(EXT / 'common.js'))});\n"
    prelude += f"const COLOURS = require({json.dumps(str(EXT / 'colours.js'))});\n"
    out = subprocess.run(
        [NODE, "-"], input=prelude + script, capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(out.stdout)


def test_pairing_input_accepts_what_serve_prints_and_refuses_the_rest() -> None:
    cases = [
        ["47321:123-456", ""],
        [" 47321 : 123456 ", ""],
        ["123-456", "47321"],
        ["API at http://127.0.0.1:47321/\nPairing code: 123-456 (valid 5 minutes, once)", ""],
        ["Pairing code: 123-456 (valid 5 minutes, once)", "47321"],
        ["Pairing code: 47321:123-456 (valid 5 minutes, once)", ""],  # serve --pair prints this
        ["123-456", ""],
        ["123-456", "70000"],
        ["12-3456", "47321"],
        ["abc", "1"],
        ["47321:123-45", ""],
    ]
    got = node(f"console.log(JSON.stringify({json.dumps(cases)}.map(([t, p]) => CW.parsePairing(t, p))))")
    assert got[0] == {"port": 47321, "code": "123-456"}
    assert got[1] == {"port": 47321, "code": "123-456"}
    assert got[2] == {"port": 47321, "code": "123-456"}
    assert got[3] == {"port": 47321, "code": "123-456"}
    assert got[4] == {"port": 47321, "code": "123-456"}
    assert got[5] == {"port": 47321, "code": "123-456"}
    assert all("error" in g for g in got[6:]), got


def test_countdowns_use_the_apps_wording() -> None:
    seconds = [0, 1, 59, 60, 61, 3599, 3600, 3660, 7322, 86399, 86400, 90000, 183600, 604800, -5]
    got = node(
        f"const s = {json.dumps(seconds)};"
        "console.log(JSON.stringify(s.map(s => [CW.formatDuration(s), CW.formatCountdown(s)])))"
    )
    assert got == [[format_duration(float(s)), format_countdown(float(s))] for s in seconds]


def status(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "binding": "seven_day",
        "desktop_notifications": False,
        "thresholds": {"five_hour": [50, 75, 90, 100], "weekly": [80]},
        "windows": [
            {
                "id": "five_hour",
                "label": "5-hour",
                "kind": "five_hour",
                "utilization": 40.0,
                "resets_at": "2030-01-01T05:00:00+00:00",
                "level": "ok",
            },
            {
                "id": "seven_day",
                "label": "Weekly",
                "kind": "weekly",
                "utilization": 91.6,
                "resets_at": "2030-01-07T00:00:00+00:00",
                "level": "critical",
            },
        ],
    }
    doc.update(over)
    return doc


def test_badge_shows_the_binding_window_in_its_level_colour() -> None:
    script = f"""
      const s = CW.checkStatus({json.dumps(json.dumps(status()))});
      const views = [
        {{state: "ok", status: s}}, {{state: "not_paired"}}, {{state: "revoked"}},
        {{state: "offline", port: 5, status: s}},
      ];
      console.log(JSON.stringify(views.map(v => CW.badgeFor(v, COLOURS))));
    """
    ok, unpaired, revoked, offline = node(script)
    assert (ok["text"], ok["colour"]) == ("92%", ICON.levels[Level.CRITICAL])
    assert "Weekly 92%" in ok["title"]
    assert unpaired["text"] == "?"
    assert "not paired" in unpaired["title"]
    assert revoked["text"] == "!"
    assert "revoked" in revoked["title"]
    assert offline["text"] == "off"
    assert "not running on port 5" in offline["title"]


def crossings(steps: list[dict[str, Any]]) -> list[list[tuple[str, int]]]:
    """Feed status documents in order; the (window, threshold) notes each one raised."""
    script = f"""
      let alerted = {{}};
      const out = [];
      for (const doc of {json.dumps(steps)}) {{
        const r = CW.crossings(CW.checkStatus(JSON.stringify(doc)), alerted);
        alerted = r.alerted;
        out.push(r.notes.map(n => [n.window.id, n.threshold]));
      }}
      console.log(JSON.stringify(out));
    """
    return [[tuple(n) for n in step] for step in node(script)]  # type: ignore[misc]


def with_util(five: float, week: float, five_reset: str = "2030-01-01T05:00:00+00:00") -> dict[str, Any]:
    doc = status()
    doc["windows"][0].update(utilization=five, resets_at=five_reset)
    doc["windows"][1]["utilization"] = week
    return doc


def test_thresholds_notify_once_per_crossing_and_again_after_a_reset() -> None:
    steps = [
        with_util(40, 10),  # nothing reached
        with_util(52, 10),  # 50
        with_util(60, 10),  # still 50: quiet
        with_util(95, 85),  # straight to 90 (one note, the highest), weekly's 80
        with_util(95, 85),  # quiet
        with_util(96, 85, five_reset="2030-01-01T05:00:03.5+00:00"),  # resets_at jitter: same window
        with_util(55, 85, five_reset="2030-01-01T10:00:00+00:00"),  # new period: 50 again
        {**with_util(80, 95, five_reset="2030-01-01T10:00:00+00:00"), "stale": True},  # stale: never
        with_util(80, 95, five_reset="2030-01-01T10:00:00+00:00"),  # fresh again: 75 now
    ]
    assert crossings(steps) == [
        [],
        [("five_hour", 50)],
        [],
        [("five_hour", 90), ("seven_day", 80)],
        [],
        [],
        [("five_hour", 50)],
        [],
        [("five_hour", 75)],
    ]


def test_malformed_status_documents_are_refused() -> None:
    bad = [
        "[]",
        "{}",
        '{"windows": [{"id": 3, "utilization": 1}]}',
        '{"windows": [{"id": "a", "utilization": "50"}]}',
        "not json",
        '{"windows": []' + " " * (300 * 1024) + "}",
    ]
    got = node(
        f"const bad = {json.dumps(bad)};"
        "const check = t => { try { CW.checkStatus(t); return 'accepted'; } catch { return 'refused'; } };"
        "console.log(JSON.stringify(bad.map(check)))"
    )
    assert got == ["refused"] * len(bad)
    odd = status(thresholds={"five_hour": ["90", 150, 75, None]}, binding=None)
    odd["windows"][0]["level"] = "<b>"
    clean = node(f"console.log(JSON.stringify(CW.checkStatus({json.dumps(json.dumps(odd))})))")
    assert clean["thresholds"] == {"five_hour": [75]}
    assert clean["windows"][0]["level"] == "stale"
    assert clean["desktop_notifications"] is False


def test_events_parser_handles_split_chunks_comments_and_crlf() -> None:
    chunks = [
        ": keep-alive\n\nevent: sta",
        'tus\ndata: {"a":\ndata: 1}\n',
        "\nevent: sessions\r\ndata: []\r\n\r\n",
        "data: x",
    ]
    got = node(
        f"const feed = CW.sseParser(); console.log(JSON.stringify({json.dumps(chunks)}.map(c => feed(c))))"
    )
    assert got == [
        [],
        [],
        [{"event": "status", "data": '{"a":\n1}'}, {"event": "sessions", "data": "[]"}],
        [],
    ]
    too_big = node(
        "const feed = CW.sseParser(100); let r = 'kept';"
        "try { feed('data: ' + 'x'.repeat(200)); } catch (e) { r = 'dropped'; }"
        "console.log(JSON.stringify(r))"
    )
    assert too_big == "dropped"


def test_zip_has_every_file_and_the_apps_version(tmp_path: Path) -> None:
    target = build("1.4.2.dev7", tmp_path)
    assert target.name == "claude-watch-extension-1.4.2.dev7.zip"
    with zipfile.ZipFile(target) as zf:
        names = set(zf.namelist())
        packed = json.loads(zf.read("manifest.json"))
    source = {p.relative_to(EXT).as_posix() for p in EXT.rglob("*") if p.is_file()}
    assert names == source
    assert packed["version"] == "1.4.2"
    assert {k: v for k, v in packed.items() if k != "version"} == {
        k: v for k, v in manifest().items() if k != "version"
    }
    assert build("1.4.2.dev7", tmp_path / "again").read_bytes() == target.read_bytes()  # reproducible
    assert manifest_version("2.0rc1") == "2.0"
    with pytest.raises(ValueError, match="no numeric version"):
        manifest_version("dev")
