"""The PyInstaller spec per platform, run with recording stand-ins for PyInstaller's build steps
(Analysis, PYZ, EXE, COLLECT, BUNDLE) and ``sys.platform`` set to each target: Windows gets a
console and a windowed exe over one COLLECT, macOS a BUNDLE with our Info.plist, and Linux one
stripped console exe. The real Linux build is ``make package``; Windows and macOS build in
.github/workflows/release.yml."""

from __future__ import annotations

import plistlib
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

Calls = list[tuple[str, tuple[Any, ...], dict[str, Any]]]
ROOT = Path(__file__).parents[2]
SPEC = ROOT / "packaging" / "pyinstaller" / "claude-watch.spec"


class _Step:
    def __init__(self, kind: str, calls: Calls) -> None:
        self.kind, self.calls = kind, calls

    def __call__(self, *args: Any, **kwargs: Any) -> SimpleNamespace:
        self.calls.append((self.kind, args, kwargs))
        return SimpleNamespace(kind=self.kind, kwargs=kwargs)


def _run_spec(monkeypatch: pytest.MonkeyPatch, platform: str) -> Calls:
    import PyInstaller.utils.hooks  # noqa: F401  (imported on the real platform first)

    calls: Calls = []

    def analysis(*args: Any, **kwargs: Any) -> SimpleNamespace:
        calls.append(("Analysis", args, kwargs))
        return SimpleNamespace(scripts=[("pyi_rth_pyside6", "", "")], binaries=[], datas=[], pure=[])

    spec_globals = {
        "__file__": str(SPEC),
        "SPECPATH": str(SPEC.parent),
        "Analysis": analysis,
        **{kind: _Step(kind, calls) for kind in ("PYZ", "EXE", "COLLECT", "BUNDLE")},
    }
    monkeypatch.setattr(sys, "platform", platform)
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), spec_globals)
    return calls


def _exes(calls: Calls) -> dict[str, dict[str, Any]]:
    return {kw["name"]: kw for kind, _, kw in calls if kind == "EXE"}


def test_linux_builds_one_stripped_console_exe(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _run_spec(monkeypatch, "linux")
    exes = _exes(calls)
    assert list(exes) == ["claude-watch"]
    assert exes["claude-watch"]["console"] is True
    assert exes["claude-watch"]["strip"] is True
    assert [kind for kind, _, _ in calls].count("BUNDLE") == 0


def test_windows_builds_console_and_windowed_exes_over_one_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    from trayapp.platform import launcher

    calls = _run_spec(monkeypatch, "win32")
    exes = _exes(calls)
    assert exes["claude-watch"]["console"] is True
    assert exes["ClaudeWatch"]["console"] is False
    assert {f"{name}.exe" for name in exes} == {launcher.CONSOLE_EXE, launcher.WINDOWED_EXE}
    assert all(kw["strip"] is False and kw["exclude_binaries"] for kw in exes.values())
    (collect,) = [args for kind, args, _ in calls if kind == "COLLECT"]
    assert [getattr(a, "kind", None) for a in collect[:2]] == ["EXE", "EXE"]
    nsis = (ROOT / "packaging" / "windows" / "installer.nsi").read_text()
    assert f'!define GUI_EXE "{launcher.WINDOWED_EXE}"' in nsis
    assert f'!define CLI_EXE "{launcher.CONSOLE_EXE}"' in nsis


def test_macos_bundles_an_app_with_our_info_plist(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import version

    from trayapp.platform.autostart import LABEL

    calls = _run_spec(monkeypatch, "darwin")
    assert all(kw["strip"] is False for kw in _exes(calls).values())  # stripping breaks signatures
    (bundle,) = [kw for kind, _, kw in calls if kind == "BUNDLE"]
    assert bundle["name"] == "Claude Watch.app"
    assert bundle["bundle_identifier"] == LABEL
    info = bundle["info_plist"]
    assert info["LSUIElement"] is True
    assert info["CFBundleShortVersionString"] == version("claude-watch")
    template = plistlib.loads((ROOT / "packaging" / "macos" / "Info.plist").read_bytes())
    assert set(template) <= set(info)
