"""``claude-watch export csv``: RFC 4180 files from the ledger and from the usage engine's snapshots."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trayapp.__main__ import main


def test_daily_and_sessions_csv(cases: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "daily.csv"
    assert main(["export", "csv", "--what", "daily", "--out", str(out), "--timezone", "UTC"]) == 0
    raw = out.read_bytes()
    assert raw.count(b"\r\n") == 4
    assert raw.endswith(b"\r\n")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [r["date"] for r in rows] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert rows[0]["total_tokens"] == "269703"
    assert rows[0]["unpriced_models"] == "claude-mystery-9"
    out = tmp_path / "sessions.csv"
    assert main(["export", "csv", "--what", "sessions", "--out", str(out), "--no-scan"]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert {r["project_path"] for r in rows} == {"/work/app", "/work/other"}
    assert "wrote 3 row(s)" in capsys.readouterr().err


def test_snapshots_csv_from_the_main_database(tmp_path: Path, capsys) -> None:
    out = tmp_path / "snap.csv"
    assert main(["export", "csv", "--what", "snapshots", "--out", str(out)]) == 1
    assert "no usage snapshots yet" in capsys.readouterr().err
    assert not out.exists()
    from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind
    from trayapp.store.usage_repo import UsageRepo

    repo = UsageRepo.open()
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    win = Window("five_hour", "Session, 5 h", WindowKind.FIVE_HOUR, 42.5, at + timedelta(hours=2),
                 timedelta(hours=5))  # fmt: skip
    repo.save_snapshot(UsageSnapshot(fetched_at=at, source=Source.API, windows=(win,)))
    repo.close()
    assert main(["export", "csv", "--what", "snapshots", "--out", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0][:3] == ["fetched_at", "source", "window_id"]
    assert rows[1] == ["2026-03-01T12:00:00Z", "api", "five_hour", "Session, 5 h", "five_hour", "42.5",
                       "2026-03-01T14:00:00Z"]  # fmt: skip


def test_unwritable_target_is_reported(cases: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "missing-dir" / "x.csv"
    assert main(["export", "csv", "--what", "daily", "--out", str(target)]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_the_library_half_refuses_clearly(tmp_path: Path) -> None:
    import pytest

    from trayapp.services.export import ExportError, export_csv

    with pytest.raises(ExportError, match="unknown export 'weekly'"):
        export_csv("weekly", tmp_path / "x.csv")
    with pytest.raises(ExportError, match="a tracker is needed"):
        export_csv("daily", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
