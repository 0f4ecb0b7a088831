"""packaging/linux/build-appimage.sh: the AppDir's layout (what the AppImage runtime, appimagetool
and desktops read), its hand-over to appimagetool, and the frozen app inside an AppDir writing
``$APPIMAGE`` (not the mount) into Claude Code's settings.

No registry carries appimagetool or the type2 runtime, so the final squashfs step is checked with
a stand-in tool that records how it is called; the release workflow runs the official one. The
frozen-app test needs the bundle ``make package`` leaves in dist/ and skips without it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "packaging" / "linux" / "build-appimage.sh"
BUNDLE = ROOT / "dist" / "claude-watch"


def _standin(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    exe = bundle / "claude-watch"
    exe.write_text('#!/bin/sh\necho "stand-in $*"\n')
    exe.chmod(0o755)
    return bundle


def _build(bundle: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("APPIMAGETOOL", "RUNTIME")}
    full["PATH"] = "/usr/bin:/bin"  # no appimagetool unless a test names one
    full.update(env)
    return subprocess.run(
        ["bash", str(SCRIPT), str(bundle), "1.2.3", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=full,
        check=False,
    )


def test_appdir_layout_without_appimagetool(tmp_path: Path) -> None:
    done = _build(_standin(tmp_path), tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "appimagetool not found" in done.stdout
    appdir = tmp_path / "out" / "ClaudeWatch.AppDir"
    assert not list((tmp_path / "out").glob("*.AppImage"))
    apprun = appdir / "AppRun"
    assert apprun.is_symlink()
    assert os.readlink(apprun) == "usr/lib/claude-watch/claude-watch"  # relative: survives the mount
    assert (
        subprocess.run([apprun, "--version"], capture_output=True, text=True).stdout == "stand-in --version\n"
    )
    desktop = (appdir / "claude-watch.desktop").read_text()
    assert "Icon=claude-watch\n" in desktop
    assert "Exec=claude-watch\n" in desktop
    assert (appdir / "claude-watch.png").read_bytes()[:4] == b"\x89PNG"
    assert os.readlink(appdir / ".DirIcon") == "claude-watch.png"
    share = appdir / "usr" / "share"
    assert (share / "applications" / "claude-watch.desktop").read_text() == desktop
    for size in (16, 22, 24, 32, 48, 64, 128, 256):
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "claude-watch.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "claude-watch.svg").is_file()
    metainfo = share / "metainfo" / "com.claudewatch.ClaudeWatch.metainfo.xml"
    assert 'version="1.2.3"' in metainfo.read_text()
    if shutil.which("desktop-file-validate"):
        checked = subprocess.run(
            ["desktop-file-validate", appdir / "claude-watch.desktop"], capture_output=True
        )
        assert checked.returncode == 0, checked.stdout
        assert checked.stdout == b"", checked.stdout  # not even a hint (one main category)
    if shutil.which("appstreamcli"):
        checked = subprocess.run(["appstreamcli", "validate", "--no-net", metainfo], capture_output=True)
        assert checked.returncode == 0, checked.stdout


def test_appimagetool_gets_the_appdir_the_runtime_and_the_arch(tmp_path: Path) -> None:
    log = tmp_path / "calls.txt"
    tool = tmp_path / "appimagetool"
    tool.write_text(
        f'#!/bin/sh\necho "ARCH=$ARCH $*" > {log}\nfor last; do :; done\necho AppImage > "$last"\n'
    )
    tool.chmod(0o755)
    runtime = tmp_path / "runtime-x86_64"
    runtime.write_bytes(b"\x7fELF stand-in")
    out = tmp_path / "out"
    done = _build(_standin(tmp_path), out, APPIMAGETOOL=str(tool), RUNTIME=str(runtime))
    assert done.returncode == 0, done.stderr
    image = out / "claude-watch-1.2.3-x86_64.AppImage"
    assert image.read_text() == "AppImage\n"
    assert log.read_text().split() == [
        "ARCH=x86_64",
        "--no-appstream",
        "--runtime-file",
        str(runtime),
        str(out / "ClaudeWatch.AppDir"),
        str(image),
    ]


def test_a_failing_appimagetool_fails_the_build(tmp_path: Path) -> None:
    tool = tmp_path / "appimagetool"
    tool.write_text("#!/bin/sh\necho 'mksquashfs: out of space' >&2\nexit 3\n")
    tool.chmod(0o755)
    done = _build(_standin(tmp_path), tmp_path / "out", APPIMAGETOOL=str(tool))
    assert done.returncode == 3


def test_frozen_app_in_an_appdir_installs_the_statusline_as_the_appimage(tmp_path: Path) -> None:
    if not (BUNDLE / "claude-watch").exists():
        if os.environ.get("CW_REQUIRE_BUNDLE"):  # the package smoke runs it after the build
            pytest.fail(f"no bundle at {BUNDLE}")
        pytest.skip("no bundle in dist/ yet: `make package-smoke` runs this after the build")
    mount = tmp_path / ".mount_claudeAB12"  # where the AppImage runtime mounts it
    done = _build(BUNDLE, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    (tmp_path / "out" / "ClaudeWatch.AppDir").rename(mount)
    image = tmp_path / "Apps" / "claude-watch-1.2.3-x86_64.AppImage"
    image.parent.mkdir()
    image.write_bytes(b"stand-in for the AppImage file")
    settings = tmp_path / "claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("APPIMAGE", "APPDIR")}
    env.update(CLAUDE_WATCH_HOME=str(tmp_path / "home"), CLAUDE_CONFIG_DIR=str(settings.parent))
    cmd = [str(mount / "AppRun"), "statusline", "--install", "--settings", str(settings)]

    bare = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert bare.returncode == 2, bare.stdout + bare.stderr
    assert "temporary" in bare.stderr
    assert settings.read_text() == "{}\n"

    env.update(APPIMAGE=str(image), APPDIR=str(mount))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(settings.read_text())["statusLine"]["command"] == f"{image} statusline"
