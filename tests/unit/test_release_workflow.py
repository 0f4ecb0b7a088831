"""The release workflow names files that exist, signs and notarises only with secrets, uses
notarytool (never altool), and the macOS template keeps the app out of the Dock. Its syntax is
checked by `make lint` (check-jsonschema against the github-workflows schema)."""

from __future__ import annotations

import plistlib
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def test_named_scripts_and_templates_exist() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    for path in ("packaging/windows/installer.nsi", "packaging/macos/Info.plist", "packaging/system-deps.sh"):
        assert path in text
        assert (ROOT / path).exists(), path
    assert "SPEC: packaging/pyinstaller/claude-watch.spec" in text
    assert "packaging/linux/build-deb.sh dist/claude-watch" in text
    assert {"ubuntu-22.04", "windows-latest", "macos-14"} <= set(re.findall(r"runs-on: (\S+)", text))
    assert text.count("--self-test") >= 4


def test_signing_is_skipped_without_secrets_and_uses_notarytool() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "altool" not in text.replace("notarytool", "")
    assert "xcrun notarytool submit" in text
    assert "SIGN: ${{ secrets.MACOS_CERT_P12 != '' }}" in text
    assert "SIGN: ${{ secrets.WINDOWS_SIGN_CERT != '' }}" in text
    assert text.count("if: env.SIGN == 'true'") == 2
    assert "if: env.NOTARISE == 'true'" in text


def test_macos_template_is_a_menu_bar_app() -> None:
    info = plistlib.loads((ROOT / "packaging" / "macos" / "Info.plist").read_bytes())
    assert info["LSUIElement"] is True
    assert info["CFBundleShortVersionString"] == "@VERSION@"
    from trayapp.platform.autostart import LABEL

    assert info["CFBundleIdentifier"] == LABEL


def test_appimage_windowed_exe_and_app_bundle_steps() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert (ROOT / "packaging" / "linux" / "build-appimage.sh").exists()
    assert "packaging/linux/build-appimage.sh dist/claude-watch" in text
    # The official tools (no registry carries them), handed to the script, and the result tested.
    assert "base=https://github.com/AppImage" in text
    assert "/appimagetool/releases/download/continuous/appimagetool-x86_64.AppImage" in text
    assert "/type2-runtime/releases/download/continuous/runtime-x86_64" in text
    assert 'xvfb-run -a "dist/claude-watch-$VERSION-x86_64.AppImage" --self-test' in text
    assert "dist/*.AppImage" in text
    # Windows: shortcuts and the Run key on the windowed exe the spec builds; a portable zip.
    assert "-DGUI_EXE=ClaudeWatch.exe" in text
    assert 'ClaudeWatch.exe" -ArgumentList "--self-test"' in text
    assert "-portable.zip" in text
    # macOS: the .app comes from the spec's BUNDLE, LSUIElement checked in the built plist.
    assert 'cp -R dist/claude-watch "$APP/Contents/MacOS"' not in text
    assert "plutil -extract LSUIElement raw" in text
