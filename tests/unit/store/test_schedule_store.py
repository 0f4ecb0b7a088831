"""The scheduler's files: the plan (strict, 0600, last good kept), the attempts log (capped, torn
lines skipped) and the guard (one attempt per account and closed window, across instances and
processes; two failures a day)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import time as wall_time
from zoneinfo import ZoneInfo

import pytest

from trayapp.core.schedule import WEEKDAYS, Anchor, AnchorMode, Attempt, Outcome, Plan, PlanError, from_preset
from trayapp.store import schedule_store as ss
from trayapp.store.schedule_store import LastStatus, ScheduleStore

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")


@pytest.fixture
def store(tmp_path: Path) -> ScheduleStore:
    return ScheduleStore(tmp_path / "config", tmp_path / "state")


def fresh(store: ScheduleStore) -> ScheduleStore:
    """A new instance on the same folders: what a restart sees."""
    return ScheduleStore(store.config_dir, store.state_dir)


def test_plan_round_trip_private(store: ScheduleStore) -> None:
    assert store.load_plan() == Plan()
    plan = Plan(
        (Anchor(time(7), WEEKDAYS, AnchorMode.AUTO, True), Anchor(time(12))),
        "custom",
        NOW + timedelta(days=1),
        True,
        True,
    )
    store.save_plan(plan)
    assert store.plan_path.stat().st_mode & 0o777 == 0o600
    loaded = fresh(store).load_plan()
    assert set(loaded.anchors) == set(plan.anchors)
    assert loaded.paused_until == plan.paused_until
    assert loaded.os_timer is True
    data = json.loads(store.plan_path.read_text())
    assert data["anchors"][0] == {
        "at": "07:00",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "mode": "auto",
        "in_quiet_hours": True,
    }
    with pytest.raises(PlanError):
        store.save_plan(Plan((Anchor(time(7)), Anchor(time(9)))))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"version": 2}', "newer than this Claude Watch"),
        ('{"anchors": {}}', "'anchors' must be a list"),
        ('{"anchors": [{"days": ["mon"]}]}', "anchor 1 has no 'at' time"),
        ('{"anchors": [{"at": "25:00"}]}', "anchor 1: '25:00' is not a time of day"),
        ('{"anchors": [{"at": "07:00", "days": ["moon"]}]}', "anchor 1: 'days' must list weekdays"),
        ('{"anchors": [{"at": "07:00", "mode": "yolo"}]}', "'mode' must be remind or auto"),
        ('{"anchors": [{"at": "07:00", "in_quiet_hours": 1}]}', "'in_quiet_hours' must be true/false"),
        ('{"anchors": [{"at": "07:00"}, {"at": "08:00"}]}', "are 1 h apart"),
        ('{"paused_until": "2026-12-03T09:00"}', "is not a time with a zone"),
        ('{"enabled": "yes"}', "'enabled' and 'os_timer' must be true/false"),
        ('{"os_timer": 1}', "'enabled' and 'os_timer' must be true/false"),
    ],
)
def test_bad_plan_file_keeps_last_good(store: ScheduleStore, content: str, message: str) -> None:
    good = from_preset("work_day")
    store.save_plan(good)
    store.plan_path.write_text(content)
    assert store.load_plan() == good  # this instance's last good plan
    assert store.error is not None
    assert message in store.error
    restarted = fresh(store)
    assert restarted.load_plan() == good  # a new process: the good copy saved next to it
    assert restarted.error is not None


def test_bad_plan_file_without_any_good_copy(store: ScheduleStore) -> None:
    store.config_dir.mkdir(parents=True)
    store.plan_path.write_bytes(b"\xff\xfe")
    assert store.load_plan() == Plan()
    assert "not UTF-8" in (store.error or "") or "not JSON" in (store.error or "")
    store.plan_path.write_text("x" * (ss.MAX_PLAN_BYTES + 1))
    assert store.load_plan() == Plan()
    assert "larger than" in (store.error or "")


def attempt(
    minutes: int, outcome: Outcome = Outcome.VERIFIED, window: str = "w1", account: str = "default"
) -> Attempt:
    return Attempt(
        NOW + timedelta(minutes=minutes), "07:00", outcome, f"d{minutes}", account, window, {"k": "v"}
    )


def test_attempts_append_read_last_and_skip_torn_lines(store: ScheduleStore) -> None:
    assert store.attempts() == []
    for i in range(15):
        store.append(attempt(i))
    with open(store.attempts_path, "a") as fh:
        fh.write('{"at": "garbage"}\n{"torn": \n')
    last = fresh(store).attempts(10)
    assert [a.detail for a in last] == [f"d{i}" for i in range(5, 15)]
    assert last[-1] == attempt(14)
    assert store.attempts_path.stat().st_mode & 0o777 == 0o600


def test_attempts_log_is_capped(store: ScheduleStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ss, "MAX_LOG_BYTES", 4000)
    monkeypatch.setattr(ss, "KEEP_ATTEMPTS", 10)
    for i in range(60):
        store.append(attempt(i))
    assert store.attempts_path.stat().st_size <= 4000 + 200
    assert [a.detail for a in store.attempts(100)][-1] == "d59"
    assert len(store.attempts(100)) <= 30


def test_claim_once_per_window_across_restarts(store: ScheduleStore) -> None:
    assert store.claim("default", "w1", NOW, TZ) is None
    assert "already tried" in (store.claim("default", "w1", NOW, TZ) or "")
    assert "already tried" in (fresh(store).claim("default", "w1", NOW, TZ) or "")
    assert fresh(store).claim("default", "w2", NOW, TZ) is None  # the next closed window
    assert fresh(store).claim("work", "w1", NOW, TZ) is None  # another account


def test_two_failures_a_day(store: ScheduleStore) -> None:
    store.append(attempt(0, Outcome.NOT_OPENED, "w1"))
    store.append(attempt(5, Outcome.FAILED, "w2"))
    store.append(attempt(6, Outcome.REFUSED, "w3"))
    assert "2 failed starts today" in (store.claim("default", "w4", NOW, TZ) or "")
    assert store.claim("other", "w4", NOW, TZ) is None
    assert store.claim("default", "w4", NOW + timedelta(days=1), TZ) is None  # tomorrow


def test_broken_guard_is_rebuilt_from_the_log(store: ScheduleStore) -> None:
    store.append(attempt(0, Outcome.NOT_OPENED, "w1"))
    store.state_dir.mkdir(parents=True, exist_ok=True)
    store.guard_path.write_text("{not json")
    assert "already tried" in (store.claim("default", "w1", NOW, TZ) or "")
    store.guard_path.unlink()
    assert "already tried" in (fresh(store).claim("default", "w1", NOW, TZ) or "")


def test_old_claims_are_forgotten(store: ScheduleStore) -> None:
    store.claim("default", "old", NOW - timedelta(days=30), TZ)
    store.claim("default", "new", NOW, TZ)
    claims = json.loads(store.guard_path.read_text())["claims"]
    assert list(claims) == ["default|new"]


def test_last_status(store: ScheduleStore) -> None:
    assert store.last_status("default") is None
    status = LastStatus("rejected", NOW, NOW + timedelta(hours=2))
    store.set_last_status("default", status)
    assert fresh(store).last_status("default") == status
    assert status.holds(NOW + timedelta(hours=1))
    assert not status.holds(NOW + timedelta(hours=2))
    assert not LastStatus("rejected", NOW).holds(NOW + timedelta(hours=5, seconds=1))


CHILD = """
import sys, time
from datetime import datetime, UTC
from zoneinfo import ZoneInfo
from pathlib import Path
from trayapp.store.schedule_store import ScheduleStore
s = ScheduleStore(Path(sys.argv[1]), Path(sys.argv[2]))
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all at once
print("won" if s.claim("default", "race", datetime.now(UTC), ZoneInfo("UTC")) is None else "lost")
"""


def test_claim_is_exclusive_across_processes(store: ScheduleStore) -> None:
    for i in range(ss.KEEP_ATTEMPTS - 1):  # a full log: each check-and-claim takes a while
        store.append(attempt(i, Outcome.VERIFIED, f"w{i}", "someone"))
    start = wall_time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(store.config_dir), str(store.state_dir), str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert results == ["lost"] * 5 + ["won"]


APPENDER = """
import sys
from datetime import datetime, UTC
from pathlib import Path
from trayapp.core.schedule import Attempt, Outcome
from trayapp.store import schedule_store as ss
ss.MAX_LOG_BYTES, ss.KEEP_ATTEMPTS = 6000, 30
s = ss.ScheduleStore(Path(sys.argv[1]), Path(sys.argv[2]))
for i in range(150):
    s.append(Attempt(datetime.now(UTC), None, Outcome.REFUSED, f"{sys.argv[3]}-{i}"))
"""


def test_appends_and_trims_from_many_processes(store: ScheduleStore) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(store.config_dir), str(store.state_dir), f"p{n}"]
        )
        for n in range(4)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    lines = store.attempts_path.read_text().splitlines()
    assert all(ss.attempt_from_json(line) is not None for line in lines)  # nothing torn
    # The file is the newest lines of all appends in order: from each process, nothing or an
    # unbroken run of its lines up to its last one (a trim that raced an append would leave a gap).
    kept = [a.detail for a in store.attempts(1000)]
    assert len(kept) >= 30
    for n in range(4):
        mine = [int(d.split("-")[1]) for d in kept if d.startswith(f"p{n}-")]
        assert mine == list(range(150 - len(mine), 150)), (n, mine)
