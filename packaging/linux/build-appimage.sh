#!/usr/bin/env bash
# Build claude-watch-<version>-x86_64.AppImage from the PyInstaller one-folder bundle.
#   packaging/linux/build-appimage.sh BUNDLE_DIR VERSION OUTDIR
# Assembles OUTDIR/ClaudeWatch.AppDir:
#   AppRun                           symlink to usr/lib/claude-watch/claude-watch (the bootloader
#                                    resolves it, so the bundle finds its _internal)
#   claude-watch.desktop, claude-watch.png, .DirIcon    what the AppImage runtime and desktops read
#   usr/lib/claude-watch/            the bundle
#   usr/share/applications, icons/hicolor, metainfo     the same files the .deb installs
# then packs it with appimagetool (APPIMAGETOOL=path, or on PATH; RUNTIME=path to the type2
# runtime, passed as --runtime-file). No registry carries appimagetool or the runtime (both come
# from GitHub): where it is missing the script stops after the AppDir, says so and exits 0, so
# the AppDir layout is still built and checked. The release workflow downloads the official tool.
# The app finds its launcher through $APPIMAGE (trayapp/platform/launcher.py), never the mount.
set -euo pipefail

bundle=$(realpath "$1")
version=$2
outdir=$(realpath -m "$3")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -x "$bundle/claude-watch" ] || { echo "error: no bundle at $bundle" >&2; exit 1; }

appdir="$outdir/ClaudeWatch.AppDir"
rm -rf "$appdir"
install -d "$appdir/usr/lib"
# Hard links where the AppDir sits on the bundle's filesystem (PyInstaller replaces the bundle
# folder on a rebuild, it never edits files in place): no second 140 MB copy in dist/.
cp -al "$bundle" "$appdir/usr/lib/claude-watch" 2>/dev/null || cp -a "$bundle" "$appdir/usr/lib/claude-watch"
ln -s usr/lib/claude-watch/claude-watch "$appdir/AppRun"
# shellcheck source=desktop-files.sh
. "$here/desktop-files.sh"
install_desktop_files "$appdir/usr" "$version"
install -m 644 "$root/resources/claude-watch.desktop" "$appdir/claude-watch.desktop"
install -m 644 "$root/resources/icons/claude-watch-256.png" "$appdir/claude-watch.png"
ln -s claude-watch.png "$appdir/.DirIcon"
echo "AppDir: $appdir"

tool=${APPIMAGETOOL:-$(command -v appimagetool || true)}
if [ -z "$tool" ]; then
  echo "note: appimagetool not found (set APPIMAGETOOL; no registry carries it): skipped the squashfs" \
    "and runtime step, the AppDir is complete (run $appdir/AppRun)"
  exit 0
fi
out="$outdir/claude-watch-$version-x86_64.AppImage"
args=()
[ -n "${RUNTIME:-}" ] && args+=(--runtime-file "$RUNTIME")
# --no-appstream: the same metainfo is validated (appstreamcli --pedantic) by build-deb.sh in the
# same job; appimagetool's check needs an appstreamcli of its own. ARCH names the runtime to embed.
ARCH=x86_64 "$tool" --no-appstream "${args[@]}" "$appdir" "$out"
echo "$out"
