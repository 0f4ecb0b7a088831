"""Deterministic synthetic Claude Code history for the scan benchmark.

Writes ``<out>/projects/<project>/<session>.jsonl`` (plus ``<session>/subagents/agent-*.jsonl`` and a
few legacy flat ``agent-*.jsonl`` files) until about ``--size-mib`` MiB are written. Shapes follow
claude-data-formats.md §1: most lines are several KB (tool results, text, thinking); about one line
in five carries ``message.usage``; one API response is written as one line per content block with
the same ``message.id``/``requestId`` (older versions with placeholder output counts on all but the
last line); resumed sessions copy earlier history verbatim into the new file; subagent files hold
sidechain traffic, some of it logged twice; side-question logs replay a parent message with a new
``requestId``; a few gateway responses have no ``requestId``; a few ``<synthetic>`` error lines.

Same seed and size -> byte-identical corpus. Usage: ``python bench/gen_corpus.py --size-mib 512 --out
bench/corpus/512``.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

MODELS = [
    ("claude-opus-4-8", 0.45),
    ("claude-sonnet-4-5-20250929", 0.3),
    ("claude-haiku-4-5-20251001", 0.15),
    ("claude-opus-4-6", 0.07),
    ("claude-sonnet-4-6", 0.03),
]
VERSIONS = ["2.0.76", "2.1.47", "2.1.90", "2.1.140", "2.1.220"]


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        alphabet = string.ascii_letters + string.digits + "      .,;:(){}[]<>/_-=+\n\t\"'\\"
        # Pre-built JSON-escaped text blobs: generating fresh random text per line would dominate.
        self.blobs = [
            json.dumps("".join(self.r.choices(alphabet, k=n)))[1:-1] for n in (4000, 9000, 16000, 24000)
        ]
        self.counter = 0

    def uid(self, prefix: str = "") -> str:
        self.counter += 1
        return f"{prefix}{self.r.getrandbits(64):016x}{self.counter:08x}"

    def text(self, mean: int) -> str:
        blob = self.r.choice(self.blobs)
        n = max(50, min(len(blob) - 1, int(self.r.expovariate(1 / mean))))
        start = self.r.randrange(0, len(blob) - n)
        s = blob[start : start + n]
        return s.rstrip("\\")  # never end inside an escape

    def model(self) -> str:
        x = self.r.random()
        for name, p in MODELS:
            x -= p
            if x <= 0:
                return name
        return MODELS[0][0]


def envelope(
    session: str, cwd: str, version: str, ts: datetime, kind: str, side: bool, **extra: object
) -> dict:  # type: ignore[type-arg]
    d: dict[str, object] = {
        "parentUuid": None,
        "isSidechain": side,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session,
        "version": version,
        "gitBranch": "main",
        "type": kind,
    }
    d.update(extra)
    d["timestamp"] = ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    return d


def dump(d: dict) -> str:  # type: ignore[type-arg]
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


def session_lines(g: Gen, session: str, cwd: str, start: datetime, turns: int, side: bool = False,
                  agent: str | None = None) -> tuple[list[str], list[str]]:  # fmt: skip
    """(lines, assistant-response line groups usable for replays)."""
    r = g.r
    version = r.choice(VERSIONS)
    streaming_placeholders = version < "2.1.97"
    ts = start
    lines: list[str] = []
    replayable: list[str] = []
    extra = {"agentId": agent} if agent else {}
    for _ in range(turns):
        ts += timedelta(seconds=r.randint(5, 240))
        user = envelope(session, cwd, version, ts, "user", side, **extra)
        if r.random() < 0.6:
            content: object = [
                {"type": "tool_result", "tool_use_id": g.uid("toolu_"), "content": g.text(6000)}
            ]
        else:
            content = g.text(400)
        user["message"] = {"role": "user", "content": content}
        user["uuid"] = g.uid()
        lines.append(dump(user))
        # Filler lines without usage (progress, attachments, system), as in real transcripts.
        for _ in range(r.choice((4, 5, 6, 7))):
            ts += timedelta(milliseconds=r.randint(10, 900))
            kind = r.choice(("progress", "progress", "attachment", "system"))
            filler = envelope(session, cwd, version, ts, kind, side, **extra)
            filler["data" if kind != "system" else "content"] = {
                "type": "hook_progress",
                "output": g.text(4000),
            }
            filler["uuid"] = g.uid()
            lines.append(dump(filler))
        # One API response: one line per content block, same id and usage.
        model = g.model()
        mid = g.uid("msg_")
        req = g.uid("req_") if r.random() > 0.01 else None  # a few gateway lines without requestId
        blocks = r.choice((1, 1, 2, 3))
        ts += timedelta(seconds=r.randint(1, 20))
        inp = r.randint(1, 50)
        cc = r.choice((0, 0, r.randint(200, 40000)))
        cr = r.randint(0, 180000)
        out_final = r.randint(20, 6000)
        one_hour = r.random() < 0.7
        group: list[str] = []
        for k in range(blocks):
            last = k == blocks - 1
            out = out_final if (last or not streaming_placeholders) else r.randint(1, 10)
            a = envelope(
                session, cwd, version, ts + timedelta(milliseconds=300 * k), "assistant", side, **extra
            )
            usage: dict[str, object] = {
                "input_tokens": inp,
                "cache_creation_input_tokens": cc,
                "cache_read_input_tokens": cr,
                "output_tokens": out,
                "service_tier": "standard",
            }
            if version >= "2.1":
                usage["cache_creation"] = {
                    "ephemeral_5m_input_tokens": 0 if one_hour else cc,
                    "ephemeral_1h_input_tokens": cc if one_hour else 0,
                }
            kind = ("thinking", "text", "tool_use")[k % 3]
            block = {
                "type": kind,
                kind if kind != "tool_use" else "input": g.text(3000 if kind != "tool_use" else 1500),
            }
            a["message"] = {"id": mid, "type": "message", "role": "assistant", "model": model,
                            "content": [block], "stop_reason": "end_turn" if last else None,
                            "usage": usage}  # fmt: skip
            if req:
                a["requestId"] = req
            a["uuid"] = g.uid()
            line = dump(a)
            lines.append(line)
            group.append(line)
        replayable.append(group[-1])
        if r.random() < 0.004:
            syn = envelope(session, cwd, version, ts, "assistant", side, isApiErrorMessage=True)
            zero = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0}  # fmt: skip
            syn["message"] = {"id": g.uid(), "type": "message", "role": "assistant", "model": "<synthetic>",
                              "content": [{"type": "text", "text": "API Error"}], "usage": zero}  # fmt: skip
            syn["uuid"] = g.uid()
            lines.append(dump(syn))
    return lines, replayable


def generate(out: Path, size_mib: int, seed: int = 1) -> dict[str, int]:
    g = Gen(seed)
    r = g.r
    target = size_mib * 1024 * 1024
    written = 0
    files = 0
    projects = [f"/home/dev/src/project-{i:02d}" for i in range(12)]
    day0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    prev: dict[str, tuple[str, list[str]]] = {}
    root = out / "projects"
    while written < target:
        cwd = r.choice(projects)
        pdir = root / cwd.replace("/", "-").replace(".", "-")
        pdir.mkdir(parents=True, exist_ok=True)
        session = str(_uuid(r))
        start = day0 + timedelta(days=r.randint(0, 59), hours=r.randint(0, 15), minutes=r.randint(0, 59))
        lines, replayable = session_lines(g, session, cwd, start, r.randint(20, 220))
        chunks: list[str] = []
        if cwd in prev and r.random() < 0.25:
            # Resumed session: the previous session's history copied verbatim at the top.
            _, old_lines = prev[cwd]
            chunks.extend(old_lines[: r.randint(len(old_lines) // 3, len(old_lines))])
        chunks.extend(lines)
        body = "\n".join(chunks) + "\n"
        (pdir / f"{session}.jsonl").write_text(body, encoding="utf-8")
        written += len(body.encode())
        files += 1
        prev[cwd] = (session, lines)
        # Subagents: new layout folders, and now and then a legacy flat agent file.
        for _ in range(r.choice((0, 0, 1, 2))):
            agent = f"a{r.getrandbits(60):015x}"
            sub_lines, _ = session_lines(g, session, cwd, start + timedelta(minutes=r.randint(1, 60)),
                                         r.randint(5, 40), side=True, agent=agent)  # fmt: skip
            legacy = r.random() < 0.15
            target_dir = pdir if legacy else pdir / session / "subagents"
            target_dir.mkdir(parents=True, exist_ok=True)
            extra = []
            if r.random() < 0.3 and replayable:
                # Side-question log replaying a parent message with a new requestId.
                replay = json.loads(r.choice(replayable))
                replay["isSidechain"] = True
                replay["requestId"] = g.uid("req_")
                replay["agentId"] = agent
                extra.append(dump(replay))
            if not legacy and r.random() < 0.2:
                sub_lines = sub_lines + sub_lines[: len(sub_lines) // 2]  # logged twice
            body = "\n".join(sub_lines + extra) + "\n"
            (target_dir / f"agent-{agent}.jsonl").write_text(body, encoding="utf-8")
            if not legacy:
                (target_dir / f"agent-{agent}.meta.json").write_text('{"agentType":"general-purpose"}')
            written += len(body.encode())
            files += 1
    return {"bytes": written, "files": files}


def _uuid(r: random.Random) -> str:
    h = f"{r.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    info = generate(args.out, args.size_mib, args.seed)
    print(f"wrote {info['bytes'] / 2**20:,.0f} MiB in {info['files']} files to {args.out} "
          f"({time.perf_counter() - t0:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
