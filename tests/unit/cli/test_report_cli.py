"""``claude-watch report`` against ccusage 20.0.24's own output on the same fixtures (captured once
into tests/fixtures/transcripts/ccusage-expected/ by
``ccusage claude daily --json --offline --timezone UTC``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers.fixtures_ledger import FIX
from trayapp.__main__ import main


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["report", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _by_day_model(daily: dict) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    out = {}
    for row in daily["daily"]:
        if row.get("source") == "stats-cache":
            continue
        for m in row["modelBreakdowns"]:
            key = (row["date"], m["modelName"])
            out[key] = (m["inputTokens"], m["outputTokens"], m["cacheCreationTokens"], m["cacheReadTokens"])
    return out


def test_daily_json_matches_ccusage_on_its_own_fixture(claude_dir: Path, capsys) -> None:
    shutil.copytree(FIX / "ccusage" / "fixtures" / "claude" / "projects", claude_dir / "projects")
    ours = _report(capsys, "daily", "--json", "--timezone", "UTC")
    theirs = json.loads((FIX / "ccusage-expected" / "ccusage_fixtures_claude-daily.json").read_text())
    assert _by_day_model(ours) == _by_day_model(theirs)
    for key in ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens"):
        assert ours["totals"][key] == theirs["totals"][key]
    assert ours["totals"]["totalCost"] == pytest.approx(theirs["totals"]["totalCost"])  # costUSD in auto mode
    first = ours["daily"][0]
    assert set(first) >= {"date", "inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens",
                          "totalTokens", "totalCost", "modelsUsed", "modelBreakdowns"}  # fmt: skip
    breakdown_keys = {
        "modelName",
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
        "cost",
    }
    assert set(first["modelBreakdowns"][0]) == breakdown_keys


def test_daily_json_differs_from_ccusage_only_where_documented(cases: Path, capsys) -> None:
    ours = _by_day_model(_report(capsys, "daily", "--json", "--timezone", "UTC"))
    theirs = _by_day_model(json.loads((FIX / "ccusage-expected" / "cases-daily.json").read_text()))
    # ccusage also counts memory/ and workflow journal files (2 x 999/999 on sonnet, 03-01), drops the
    # line whose message.id is "" (1/2), counts both streaming copies of the requestless msg_C (its key
    # includes the timestamp: +5/+1), and drops the line with invalid UTF-8 (msg_I 11/110, 03-03).
    sonnet = "claude-sonnet-4-5-20250929"
    i, o, c, r = theirs[("2026-03-01", sonnet)]
    theirs[("2026-03-01", sonnet)] = (i - 1998 + 1 - 5, o - 1998 + 2 - 1, c, r)
    i, o, c, r = theirs[("2026-03-03", sonnet)]
    theirs[("2026-03-03", sonnet)] = (i + 11, o + 110, c, r)
    assert ours == theirs


def test_reports_render_and_filter(cases: Path, capsys) -> None:
    for kind in ("daily", "monthly", "session", "project", "blocks"):
        assert main(["report", kind, "--timezone", "UTC", "--breakdown"]) == 0
        out = capsys.readouterr().out
        assert "Local estimate: this machine, Claude Code only." in out
    monthly = _report(capsys, "monthly", "--json", "--no-scan")
    assert [m["month"] for m in monthly["monthly"]] == ["2026-03"]
    sessions = _report(
        capsys, "session", "--json", "--since", "20260302", "--until", "2026-03-02", "--timezone", "UTC"
    )
    assert len(sessions["sessions"]) == 1
    assert sessions["sessions"][0]["projectPath"] == "/work/app"
    projects = _report(capsys, "project", "--json")
    assert {p["projectPath"] for p in projects["projects"]} == {"/work/app", "/work/other"}
    assert projects["unpricedModels"] == ["claude-mystery-9"]
    blocks = _report(capsys, "blocks", "--json")["blocks"]
    assert [b["isGap"] for b in blocks] == [False, True, False, True, False]
    assert blocks[0]["startTime"] == "2026-03-01T10:00:00.000Z"
    assert not blocks[0]["isActive"]


def test_bad_arguments_are_clear(cases: Path, capsys) -> None:
    assert main(["report", "daily", "--since", "March"]) == 2
    assert "--since 'March': use YYYY-MM-DD" in capsys.readouterr().err
    assert main(["report", "daily", "--timezone", "Mars/Base"]) == 2
    assert "unknown time zone" in capsys.readouterr().err


def test_reports_and_exports_do_not_write_today_cost(cases: Path, capsys) -> None:
    from trayapp import paths

    assert main(["report", "daily", "--json"]) == 0  # a first scan
    assert main(["export", "csv", "--what", "daily", "--out", "-"]) == 0
    assert not (paths.state_dir() / "today-cost.json").exists()  # the tray app's file (one writer)


def test_report_while_another_process_writes_the_ledger(cases: Path, capsys, monkeypatch) -> None:
    from tests.helpers.fixtures_ledger import S1
    from trayapp.store.ledger import LedgerRepo

    saved = _report(capsys, "daily", "--json")
    body = (cases / "-work-app" / f"{S1}.jsonl").read_bytes().replace(b'"msg_', b'"more_')
    (cases / "-work-app" / "99999999-9999-4999-8999-999999999999.jsonl").write_bytes(body)
    holder = LedgerRepo.open()  # another process in the middle of a (long) first scan
    holder.conn.execute("BEGIN IMMEDIATE")
    opener = LedgerRepo.open.__func__

    def impatient(cls, *args, **kwargs):
        repo = opener(cls, *args, **kwargs)
        repo.conn.execute("PRAGMA busy_timeout=50")  # instead of waiting 10 s
        return repo

    monkeypatch.setattr(LedgerRepo, "open", classmethod(impatient))
    try:
        assert main(["report", "daily", "--json"]) == 0
        captured = capsys.readouterr()
        assert json.loads(captured.out) == saved  # the figures saved so far
        assert "another Claude Watch process is updating the token ledger" in captured.err
    finally:
        holder.conn.execute("ROLLBACK")
        holder.close()
    grown = _report(capsys, "daily", "--json")
    assert grown["totals"]["totalTokens"] > saved["totals"]["totalTokens"]


def test_report_alone_is_the_daily_report(cases: Path, capsys) -> None:
    """`claude-watch report` printed a usage error; it is the daily report (issue 20)."""
    assert main(["report", "--json"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert alone == _report(capsys, "daily", "--json")
    assert alone["daily"]


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_tables_fit_the_terminal(cases: Path, capsys, monkeypatch, columns: int) -> None:
    """Reports were 159-194 columns wide at 80 (issue 20): they fit ``COLUMNS`` by shortening the
    models column and then leaving out the cache, input and output columns; totals always stay."""
    monkeypatch.setenv("COLUMNS", str(columns))
    for kind in ("daily", "session", "project"):
        assert main(["report", kind, "--timezone", "UTC"]) == 0
        table = capsys.readouterr().out.split("Local estimate")[0]
        assert max(len(line) for line in table.splitlines()) <= columns, (kind, table)
        assert "271,396" in table  # the total tokens
        assert "$0.22*" in table  # and the total cost


def test_session_report_shows_first_and_last_activity(cases: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["report", "session", "--timezone", "UTC"]) == 0
    head, _, first_row = capsys.readouterr().out.splitlines()[:3]
    assert head.split()[1:3] == ["First", "Last"]
    assert "03-01 10:00  03-01 11:00" in first_row


def test_weekly_report_groups_days_into_weeks_from_monday(cases: Path, capsys) -> None:
    """Issue 20 asked for `report weekly`: weeks start on Monday and are labelled with its date."""
    from datetime import date, timedelta

    weekly = _report(capsys, "weekly", "--json", "--timezone", "UTC")
    daily = _report(capsys, "daily", "--json", "--timezone", "UTC")
    assert weekly["totals"] == {**daily["totals"], "totalCost": pytest.approx(daily["totals"]["totalCost"])}
    weeks = {w["week"]: w["totalTokens"] for w in weekly["weekly"]}
    assert all(date.fromisoformat(w).weekday() == 0 for w in weeks)
    expected: dict[str, int] = {}
    for d in daily["daily"]:
        day = date.fromisoformat(d["date"])
        monday = (day - timedelta(days=day.weekday())).isoformat()
        expected[monday] = expected.get(monday, 0) + d["totalTokens"]
    assert weeks == expected
    assert len(weeks) == 2  # 2026-03-01 is a Sunday: its week began on 2026-02-23
