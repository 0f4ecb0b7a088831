#!/usr/bin/env bash
# Packaging smoke test: the built .deb installed for real, the installed app run inside the private
# desktop session, the package removed again; then the wheel in a fresh virtual environment.
#   packaging/smoke/smoke.sh PYTHON [--no-build]   (`make package-smoke`; needs root for dpkg)
# Builds the packages once (packaging/build.sh, a zstd .deb unless DEB_COMPRESS says otherwise;
# --no-build takes what is in dist/), then:
#   dpkg -i; `claude-watch --self-test` with the icon in the session's real tray; `report daily
#   --json` on the fixture transcripts (same output as the venv's); `status --demo --json`;
#   `statusline` on a sample stdin; dpkg -r, every installed file gone, the user's data untouched;
#   the wheel installed into a fresh venv and its --self-test; the bundle in an AppDir at a
#   temporary mount (tests/integration/test_appimage.py's frozen-app test).
# Each step is counted; a summary line says how many passed and failed. The package is removed on
# exit whatever happens. Skipped (an error under CI=true) without root or dpkg, or where claude-watch
# is already installed from a package (it would remove someone's install).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# dpkg, waiting (up to 2 minutes) while another apt or dpkg on this machine holds its lock.
dpkg_wait() {
  local out i
  for i in $(seq 60); do
    out=$(dpkg "$@" 2>&1) && { echo "$out"; return 0; }
    grep -qi "lock" <<<"$out" || { echo "$out" >&2; return 1; }
    sleep 2
  done
  echo "$out" >&2
  return 1
}

if [ "${1:-}" = "--inside" ]; then
  # Inside tests/integration/with-services.sh: HOME is a private temp folder.
  py=$2
  passed=0 failed=0
  check() {  # check NAME COMMAND...: run, count, show the output on failure
    local name=$1; shift
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then passed=$((passed + 1)); echo "ok    $name"
    else failed=$((failed + 1)); echo "FAIL  $name (exit $rc)"; echo "$out" | tail -20 | sed 's/^/      /'; fi
  }
  bin=/usr/bin/claude-watch
  fixtures=$root/tests/fixtures
  # The user's data before the package goes: settings and a ledger made by the installed app.
  check "self-test in the desktop session, icon in the tray" bash -c \
    "env -u QT_QPA_PLATFORM $bin --self-test | tee /dev/stderr | grep -q 'SELF-TEST OK (tray available: True'"
  check "report daily --json (installed = venv)" bash -c "
    CLAUDE_CONFIG_DIR=$fixtures/transcripts/cases $bin report daily --json --timezone UTC > \$HOME/frozen.json &&
    HOME=\$HOME/venv-home CLAUDE_CONFIG_DIR=$fixtures/transcripts/cases $py -m trayapp report daily --json --timezone UTC > \$HOME/venv.json &&
    grep -q totalTokens \$HOME/frozen.json && cmp \$HOME/frozen.json \$HOME/venv.json"
  check "--version is the package's" bash -c "[ \"\$($bin --version)\" = \"claude-watch \$($py -c 'import trayapp; print(trayapp.version())')\" ]"
  check "status --demo --json" bash -c "$bin status --demo --json | $py -c 'import json,sys; json.load(sys.stdin)'"
  check "statusline on a sample stdin" bash -c \
    "out=\$($bin statusline < $fixtures/statusline/stdin-2.1.220-full.json) && test -n \"\$out\" && echo \"\$out\""
  check "settings written by the installed app" $bin config set sound.volume 40
  snapshot() { find "$HOME/.config/claude-watch" "$HOME/.local/share/claude-watch" -type f -exec sha256sum {} + | sort; }
  before=$(snapshot)
  files=$(dpkg -L claude-watch | while read -r f; do [ -f "$f" ] || [ -L "$f" ] && echo "$f"; done)
  check "dpkg -r" dpkg_wait -r claude-watch
  check "no installed file left" bash -c 'left=0; while read -r f; do if [ -e "$f" ] || [ -L "$f" ]; then echo "left: $f"; left=1; fi; done <<<"$1"; [ $left -eq 0 ] && [ ! -e /usr/lib/claude-watch ]' _ "$files"
  check "user data untouched" bash -c '[ -n "$1" ] && [ "$1" = "$(find "$HOME/.config/claude-watch" "$HOME/.local/share/claude-watch" -type f -exec sha256sum {} + | sort)" ]' _ "$before"
  wheel=$(ls dist/claude_watch-*-py3-none-any.whl | tail -1)
  venv=$(mktemp -d /tmp/claude-watch-wheel.XXXXXX)
  check "wheel into a fresh venv" bash -c "python3 -m venv $venv && $venv/bin/pip install -q -c constraints.txt $wheel"
  check "wheel: --self-test in the desktop session" bash -c \
    "cd / && env -u QT_QPA_PLATFORM $venv/bin/claude-watch --self-test | grep -q 'SELF-TEST OK (tray available: True'"
  rm -rf "$venv"
  # The frozen bundle inside an AppDir at a temporary mount (the AppImage case): needs the bundle,
  # so it runs here, after the build, rather than in the main pytest run (where it skips).
  check "AppDir: statusline --install writes \$APPIMAGE, never the mount" \
    env CW_REQUIRE_BUNDLE=1 "$py" -m pytest -q -p no:cacheprovider tests/integration/test_appimage.py -k frozen_app
  echo "package smoke: $passed passed, $failed failed"
  [ $failed -eq 0 ]
  exit
fi

py=${1:?usage: smoke.sh PYTHON [--no-build]}
# Preflight: root and dpkg are needed, and a packaged claude-watch must not already be installed.
# Outside CI a machine without them skips the test with a note; under CI=true that is a failure.
skip() {
  if [ "${CI:-}" = "true" ]; then echo "package smoke: error: $*" >&2; exit 1; fi
  echo "package smoke: skipped: $*" >&2
  exit 0
}
command -v dpkg-deb >/dev/null || skip "no dpkg here"
[ "$(id -u)" -eq 0 ] || skip "installing a .deb needs root"
# One package build and install at a time on this machine (dpkg's lock, the shared dist/).
if [ -z "${CLAUDE_WATCH_SMOKE_LOCKED:-}" ]; then
  export CLAUDE_WATCH_SMOKE_LOCKED=1
  exec flock /tmp/claude-watch-package-smoke.lock "$0" "$@"
fi
if dpkg-query -W -f='${Status}' claude-watch 2>/dev/null | grep -q "install ok installed"; then
  skip "claude-watch is already installed from a package here; not touching it"
fi
t0=$SECONDS
if [ "${2:-}" != "--no-build" ]; then
  DEB_COMPRESS=${DEB_COMPRESS:-zstd} packaging/build.sh "$py" || { echo "package smoke: 0 passed, 1 failed (build)"; exit 1; }
fi
version=$("$py" -c 'from importlib.metadata import version; print(version("claude-watch"))')
deb=dist/claude-watch_${version}_amd64.deb
[ -f "$deb" ] || { echo "package smoke: error: $deb missing" >&2; exit 1; }
cleanup() { dpkg-query -W claude-watch >/dev/null 2>&1 && dpkg_wait -P claude-watch >/dev/null; }
trap cleanup EXIT
t1=$SECONDS
echo "installing $deb ($(du -h "$deb" | cut -f1))"
dpkg_wait -i "$deb" || { echo "package smoke: 0 passed, 1 failed (dpkg -i)"; exit 1; }
echo "installed size: $(du -sh /usr/lib/claude-watch | cut -f1)"
tests/integration/with-services.sh "$0" --inside "$(realpath -s "$py")"
rc=$?
echo "package smoke: build $((t1 - t0)) s, install and checks $((SECONDS - t1)) s"
exit $rc
