"""Test images for the container tests, made without any registry: a root filesystem assembled
here (Debian's static busybox, its applet links, and a POSIX-sh stand-in for ``claude``) imported
into the private engine (``POST /images/create?fromSrc=-``, what ``docker import`` does), once per
session.

The stand-in ``claude`` answers ``--version`` and runs ``-p PROMPT ... --output-format stream-json
--verbose --session-id ID`` by printing scripted stream-json (init, assistant, rate_limit_event,
result). It is steered by a file the test writes into the mounted folder, ``.fake-claude``, read
as shell words: ``sleep N`` (before the result), ``hang`` (ignore SIGTERM and sleep until killed),
``crash N`` (exit N after the assistant line), ``stderr TEXT``. It always writes
``from-container.txt`` into its working folder (the mounted worktree), holding its working
folder, whether ``CLAUDE_CODE_OAUTH_TOKEN`` is set and that token's length (never the token),
its arguments, and whether a git worktree's repository folder (named in ``.git``) is visible.
A new session leaves ``$HOME/sessions/<id>``; ``--resume <id>`` without it fails as Claude Code
does ("No conversation found with session ID").
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from urllib.parse import quote

import httpx

IMAGE = "cw-test/claude:fake"
IMAGE_NO_CLAUDE = "cw-test/noclaude:1"
APPLETS = ("sh", "cat", "echo", "printf", "sleep", "ls", "mkdir", "env", "id", "true", "date", "grep")
ENV_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

FAKE_CLAUDE = r"""#!/bin/sh
# A stand-in for Claude Code's CLI inside a test image (tests/helpers/docker_image.py).
if [ "$1" = "--version" ]; then echo "2.1.219 (Claude Code)"; exit 0; fi
if [ "$1" != "-p" ]; then echo "fake claude: unknown command $1" >&2; exit 2; fi
sid=""; prompt="$2"; prev=""
for a in "$@"; do
  [ "$prev" = "--session-id" ] && sid="$a"
  [ "$prev" = "--resume" ] && sid="$a"
  prev="$a"
done
mode=""; arg=""
if echo " $* " | grep -q -- " --resume "; then
  if [ ! -f "$HOME/sessions/$sid" ]; then echo "No conversation found with session ID: $sid" >&2; exit 1; fi
elif [ -n "$sid" ]; then
  mkdir -p "$HOME/sessions" && : > "$HOME/sessions/$sid"
fi
[ -f .fake-claude ] && read -r mode arg < .fake-claude
tok="unset"; [ -n "$CLAUDE_CODE_OAUTH_TOKEN" ] && tok="set"
gitdir=""; gv="no"
[ -f .git ] && read -r _ gitdir < .git
[ -n "$gitdir" ] && [ -d "$gitdir" ] && gv="yes"
printf 'cwd=%s\ntoken=%s\ntoken_length=%s\nprompt=%s\nargs=%s\ngitdir_visible=%s\n' \
  "$(pwd)" "$tok" "${#CLAUDE_CODE_OAUTH_TOKEN}" "$prompt" "$*" "$gv" > from-container.txt
printf '{"type":"system","subtype":"init","session_id":"%s","model":"claude-fake","cwd":"%s","tools":["Bash"]}\n' "$sid" "$(pwd)"
printf '{"type":"assistant","session_id":"%s","message":{"model":"claude-fake","content":[{"type":"text","text":"Working in a container"}],"usage":{"input_tokens":3,"output_tokens":2}}}\n' "$sid"
[ "$mode" = "stderr" ] && echo "$arg" >&2
if [ "$mode" = "crash" ]; then exit "$arg"; fi
if [ "$mode" = "hang" ]; then
  trap '' TERM
  while true; do sleep 1; done
fi
[ "$mode" = "sleep" ] && sleep "$arg"
printf '{"type":"rate_limit_event","session_id":"%s","rate_limit_info":{"status":"allowed","resetsAt":%s,"rateLimitType":"five_hour"}}\n' "$sid" "$(( $(date +%s) + 3600 ))"
printf '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"%s","num_turns":1,"duration_ms":40,"total_cost_usd":0.0012,"usage":{"input_tokens":3,"output_tokens":5}}\n' "$sid"
exit 0
"""  # noqa: E501 (one stream-json event per printf line)


def busybox() -> str | None:
    """Debian's static busybox (``busybox-static``); a dynamic one would need its libraries."""
    for path in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(path):
            return path
    return shutil.which("busybox")


def rootfs_tar(*, with_claude: bool) -> bytes:
    """An uncompressed tar of the root filesystem."""
    bb = busybox()
    if bb is None:
        raise RuntimeError("busybox is not installed (packaging/system-deps.sh test installs busybox-static)")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for folder in ("bin", "tmp", "usr", "usr/local", "usr/local/bin", "work"):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        tar.add(bb, arcname="bin/busybox")
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        if with_claude:
            data = FAKE_CLAUDE.encode()
            info = tarfile.TarInfo("usr/local/bin/claude")
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def import_image(socket: str, image: str, *, with_claude: bool) -> str:
    """Import the root filesystem as ``image`` (with PATH set, as a real image has); its id."""
    repo, tag = image.rsplit(":", 1)
    query = f"fromSrc=-&repo={quote(repo, safe='')}&tag={quote(tag)}&changes={quote('ENV ' + ENV_PATH)}"
    with httpx.Client(transport=httpx.HTTPTransport(uds=socket), timeout=60.0) as client:
        resp = client.post(
            f"http://docker/images/create?{query}",
            content=rootfs_tar(with_claude=with_claude),
            headers={"Content-Type": "application/x-tar"},
        )
        resp.raise_for_status()
        found = client.get(f"http://docker/images/{image}/json")
        found.raise_for_status()
        return str(found.json()["Id"])
