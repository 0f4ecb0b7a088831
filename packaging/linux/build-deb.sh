#!/usr/bin/env bash
# Build claude-watch_<version>_amd64.deb from the PyInstaller one-folder bundle.
#   packaging/linux/build-deb.sh BUNDLE_DIR VERSION OUTDIR
# Layout: the bundle under /usr/lib/claude-watch, /usr/bin/claude-watch a symlink to its launcher
# (the bootloader resolves it, so sys.executable is the real path), the .desktop entry, hicolor
# icons, AppStream metainfo (validated with appstreamcli when present). No maintainer scripts:
# the hicolor-icon-theme and desktop-file-utils triggers refresh their caches.
# Depends are derived from the bundle: every shared library some bundled ELF file needs that the
# bundle does not carry, mapped to its Debian package with dpkg -S, plus libc6 (>= the newest
# GLIBC_ symbol version the bundle asks for). dpkg-shlibdeps would also list the dependencies of
# the bundled libraries themselves (60+ packages).
# DEB_COMPRESS=xz (default, smallest) or zstd (seconds instead of a minute) or gzip.
set -euo pipefail

bundle=$(realpath "$1")
version=$2
outdir=$(realpath -m "$3")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
compress=${DEB_COMPRESS:-xz}
arch=amd64

[ -x "$bundle/claude-watch" ] || { echo "error: no bundle at $bundle" >&2; exit 1; }
stage=$(mktemp -d /tmp/claude-watch-deb.XXXXXX)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/pkg"

# Files.
install -d "$pkg/usr/lib" "$pkg/usr/bin" "$pkg/usr/share/doc/claude-watch" "$pkg/DEBIAN"
cp -a "$bundle" "$pkg/usr/lib/claude-watch"
ln -s ../lib/claude-watch/claude-watch "$pkg/usr/bin/claude-watch"
# shellcheck source=desktop-files.sh
. "$here/desktop-files.sh"
install_desktop_files "$pkg/usr" "$version"
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net --pedantic "$pkg/usr/share/metainfo/com.claudewatch.ClaudeWatch.metainfo.xml"
fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$pkg/usr/share/applications/claude-watch.desktop"
fi
cat > "$pkg/usr/share/doc/claude-watch/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: claude-watch

Files: *
License: MIT
Comment: The bundle also carries Python, Qt (LGPL-3) through PySide6, and the Python packages
 listed in the project's constraints.txt, each under its own licence.
COPYRIGHT

# Depends, from the bundle's real needs.
mapfile -t elves < <(find "$bundle" -type f \( -name '*.so*' -o -name claude-watch \) -exec sh -c \
  'head -c 4 "$1" | grep -q "ELF" && echo "$1"' _ {} \;)
declare -A carried=() outside=()
while read -r name; do carried[$name]=1; done < <(find "$bundle" -type f -printf '%f\n')
for f in "${elves[@]}"; do
  resolved=$(ldd "$f" 2>/dev/null || true)
  # Direct needs only (DT_NEEDED) that the bundle does not carry; ldd says where they resolve.
  for name in $(objdump -p "$f" 2>/dev/null | awk '/NEEDED/ {print $2}'); do
    [ -n "${carried[$name]:-}" ] && continue
    case "$name" in ld-linux*) continue ;; esac  # the dynamic loader: libc6
    path=$(awk -v n="$name" '$1 == n && $3 ~ /^\// {print $3}' <<<"$resolved")
    if [ -n "$path" ]; then outside[$path]=1; else echo "note: $name (needed by ${f#"$bundle"/}) not on this system" >&2; fi
  done
done
declare -A pkgs=()
for lib in "${!outside[@]}"; do
  owner=$(dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true)
  owner=${owner%%:*}
  [ -n "$owner" ] || { echo "warning: no package owns $lib" >&2; continue; }
  pkgs[$owner]=1
done
glibc=$(for f in "${elves[@]}"; do objdump -T "$f" 2>/dev/null; done \
  | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
unset 'pkgs[libc6]'
# Data the bundled libraries read from the system: fontconfig's configuration in /etc/fonts.
[ -n "${carried[libfontconfig.so.1]:-}" ] && pkgs[fontconfig-config]=1
depends="libc6 (>= $glibc)"
for p in $(printf '%s\n' "${!pkgs[@]}" | sort); do depends+=", $p"; done

size=$(du -sk "$pkg/usr" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: claude-watch
Version: $version
Architecture: $arch
Maintainer: Claude Watch developers <claude-watch@users.noreply.github.com>
Installed-Size: $size
Depends: $depends
Recommends: gnome-keyring | kwalletmanager | keepassxc, pulseaudio | pipewire-pulse
Section: utils
Priority: optional
Homepage: https://github.com/claude-watch/claude-watch
Description: Claude Pro/Max limits in the system tray
 Shows how close you are to your Claude Pro/Max limits, where your tokens
 went, and warns before you run out. Also a status line and reports for
 Claude Code on the command line.
CONTROL
mkdir -p "$outdir"
out="$outdir/claude-watch_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compress" --build "$pkg" "$out" >/dev/null
echo "$out"
echo "Depends: $depends"
