#!/usr/bin/env bash
# Runs a command inside a private desktop session made of real services:
#   a private D-Bus session bus (dbus-run-session), Xvfb on a free display, an unlocked
#   gnome-keyring (Secret Service), trayer (an XEmbed system tray) and dunst (notifications).
# HOME and XDG_RUNTIME_DIR point to a temp dir so nothing touches the user's keyring or files.
# Exports CLAUDE_WATCH_SERVICES=1 when all of them are up. When a tool is missing it runs the
# command without them and says why (integration tests then skip), except under CI=true, where
# that is an error: CI must exercise the real services.
set -u

if [ -z "${CLAUDE_WATCH_IN_BUS:-}" ]; then
  missing=()
  for tool in dbus-run-session Xvfb gnome-keyring-daemon trayer dunst dunstctl xwininfo xdotool; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "${CI:-}" = "true" ]; then
      echo "error: CI=true but desktop services are missing: ${missing[*]}" >&2
      exit 1
    fi
    echo "note: desktop services missing (${missing[*]}): integration tests will be skipped" >&2
    export CLAUDE_WATCH_SERVICES_MISSING="${missing[*]}"
    exec "$@"
  fi
  export CLAUDE_WATCH_IN_BUS=1
  exec dbus-run-session -- "$0" "$@"
fi

work=$(mktemp -d /tmp/claude-watch-session.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export HOME="$work/home" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"


# Start Xvfb (on a free display it reports on fd 5), trayer and dunst; 0 when all are up.
start_desktop() {
  : >"$work/display"
  Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp 5>"$work/display" 2>"$work/xvfb.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.05; done
  [ -s "$work/display" ] || { why="Xvfb did not start: $(tail -3 "$work/xvfb.log")"; return 1; }
  export DISPLAY=":$(head -n1 "$work/display")"
  for _ in $(seq 100); do xwininfo -root >/dev/null 2>&1 && break; sleep 0.05; done
  trayer --edge top --align right --widthtype pixel --width 200 --height 32 --tint 0x334455 \
    --transparent true --alpha 0 >"$work/trayer.log" 2>&1 &
  pids+=($!)
  # dunst keeps 20 notifications in its history by default; a whole test run sends more, and tests
  # that read the history need it to grow: no limit.
  printf '[global]\n    history_length = 0\n' >"$work/dunstrc"
  dunst -config "$work/dunstrc" >"$work/dunst.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    if xwininfo -root -tree 2>/dev/null | grep -q '"panel"' && dunstctl count >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  why="trayer or dunst did not come up: $(cat "$work/trayer.log" "$work/dunst.log" 2>/dev/null | tail -3)"
  return 1
}

echo -n "claude-watch-test" | gnome-keyring-daemon --unlock --components=secrets >"$work/keyring.env" 2>&1
why=""
started=0
for attempt in 1 2 3; do
  if start_desktop; then started=1; break; fi
  echo "note: desktop session attempt $attempt failed ($why); retrying" >&2
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  pids=()
  sleep 0.5
done
if [ $started = 1 ]; then
  export CLAUDE_WATCH_SERVICES=1
  echo "desktop session: DISPLAY=$DISPLAY, private D-Bus, gnome-keyring (unlocked), trayer, dunst"
else
  echo "error: $why" >&2
  [ "${CI:-}" = "true" ] && exit 1
  export CLAUDE_WATCH_SERVICES_MISSING="$why"
fi

"$@"
