#!/usr/bin/env bash
# `make package`: build everything a release ships for Linux into dist/.
#   dist/claude-watch/                                  the PyInstaller one-folder bundle
#   dist/claude-watch-<version>-linux-x86_64.tar.gz     that folder, portable
#   dist/claude-watch_<version>_amd64.deb               see packaging/linux/build-deb.sh
#   dist/ClaudeWatch.AppDir/ (+ claude-watch-<version>-x86_64.AppImage where appimagetool is
#                                                       found; packaging/linux/build-appimage.sh)
#   dist/claude_watch-<version>-py3-none-any.whl, .tar.gz (sdist)
#   dist/claude-watch-extension-<version>.zip          the browser extension (packaging/build_extension.py)
# Usage: packaging/build.sh PYTHON   (the venv's python, with the `package` extra installed)
# DEB_COMPRESS=zstd makes the .deb in seconds (default xz: the smallest, about a minute).
set -euo pipefail
py=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { printf '== %s\n' "$*"; }
t0=$SECONDS

version=$("$py" -c 'from importlib.metadata import version; print(version("claude-watch"))')
step "claude-watch $version"

step "bundle (PyInstaller one-folder)"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/pyinstaller/claude-watch.spec
QT_QPA_PLATFORM=offscreen dist/claude-watch/claude-watch --self-test

step "portable tarball"
tarball="dist/claude-watch-$version-linux-x86_64.tar.gz"
stage=$(mktemp -d /tmp/claude-watch-tar.XXXXXX)
trap 'rm -rf "$stage"' EXIT
top="$stage/claude-watch-$version"
cp -a dist/claude-watch "$top"
install -m 644 resources/claude-watch.desktop "$top/claude-watch.desktop"
install -m 644 resources/icons/claude-watch.svg "$top/claude-watch.svg"
cat > "$top/README.txt" <<README
Claude Watch $version, portable build for Linux x86-64 (glibc >= the build machine's).

Run it from this folder:   ./claude-watch          (the tray app)
                           ./claude-watch --help   (the commands)
Nothing is installed; your settings and history live in the usual per-user folders
(~/.config/claude-watch, ~/.local/share/claude-watch). To remove it, delete this folder.
README
tar -C "$stage" -czf "$tarball" "claude-watch-$version"

step ".deb"
packaging/linux/build-deb.sh dist/claude-watch "$version" dist

step "AppImage"
packaging/linux/build-appimage.sh dist/claude-watch "$version" dist

step "wheel and sdist"
"$py" -m build --outdir dist . >/dev/null

step "browser extension"
"$py" packaging/build_extension.py "$version" dist

step "done in $((SECONDS - t0)) s"
ls -la "$tarball" "dist/claude-watch_${version}_amd64.deb" dist/claude_watch-"$version"* \
  "dist/claude-watch-extension-$version.zip"
du -sh dist/claude-watch
