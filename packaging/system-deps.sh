#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Claude Watch needs, when run as root on an apt system.
#   packaging/system-deps.sh runtime   Qt's runtime libraries (xcb, EGL, fonts, PulseAudio client)
#   packaging/system-deps.sh test      runtime + the desktop services the integration tests drive
#                                      (Xvfb, D-Bus, dunst, gnome-keyring, trayer, xdotool, PulseAudio),
#                                      Chromium and chromedriver for the real-browser tests, Node.js
#                                      for the browser extension's script tests
#                                      and the Prometheus server and promtool for the /metrics tests
#                                      and the validators the package build runs (appstream, desktop-file-utils,
#                                      nsis for the Windows installer script check),
#                                      and Docker's engine (docker.io) and a static busybox for the
#                                      container tests (they start a private dockerd, no registry)
# Installs only what is missing, so a second run costs a dpkg query. Elsewhere (not root, no apt)
# it prints what to install and exits 0; `make test` then skips the integration tests with a reason
# (under CI=true they fail instead).
set -euo pipefail

RUNTIME="libegl1 libgl1 libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6 libxkbcommon0 libxkbcommon-x11-0
libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1 libxrender1 libpulse0 fonts-dejavu-core"
TEST="xvfb xauth x11-utils xdotool imagemagick trayer dunst libnotify-bin dbus dbus-x11 gnome-keyring
libsecret-tools pulseaudio pulseaudio-utils appstream desktop-file-utils nsis chromium chromium-driver nodejs
prometheus systemd docker.io busybox-static"
# Debian packages Chromium; Ubuntu ships it as a snap (no `chromium` deb): there these are skipped
# with a note, and the browser tests take CW_CHROMIUM and CW_CHROMEDRIVER (e.g. Google Chrome).
DEBIAN_ONLY="chromium chromium-driver"

want=$RUNTIME
[ "${1:-runtime}" = "test" ] && want="$RUNTIME $TEST"
# npm (tests/otel-js): its own package on Debian; NodeSource's nodejs bundles it.
if [ "${1:-runtime}" = "test" ] && ! command -v npm >/dev/null; then want="$want npm"; fi

missing=()
for pkg in $want; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  installable=()
  for pkg in "${missing[@]}"; do
    if [[ " $DEBIAN_ONLY " == *" $pkg "* ]] && ! apt-cache show "$pkg" >/dev/null 2>&1; then
      echo "note: $pkg is not packaged here; set CW_CHROMIUM and CW_CHROMEDRIVER for the browser tests"
      continue
    fi
    installable+=("$pkg")
  done
  [ ${#installable[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${installable[@]}" >/dev/null
else
  echo "note: these system packages are missing: ${missing[*]}"
  echo "      install them with your package manager (e.g. sudo apt-get install ${missing[*]})"
fi
