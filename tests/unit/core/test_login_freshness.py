"""The login freshness rules: days left, the 7/3/1-day warnings once per threshold per login, the
texts, the daily check time and sleep detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trayapp.core import login_freshness as lf
from trayapp.core.clock import FakeClock
from trayapp.core.models import AlertKind

DEADLINE = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)


def status_at(now: datetime, deadline: datetime | None = DEADLINE, signed_in: bool = True) -> lf.LoginStatus:
    return lf.LoginStatus("default", signed_in, deadline, now)


def run(days: list[float], memory: lf.LoginMemory | None = None, deadline: datetime = DEADLINE):
    """Walk a login through ``days`` before its deadline; returns (thresholds warned, memory)."""
    memory = memory or lf.LoginMemory()
    warned: list[int | None] = []
    for d in days:
        alert, memory = lf.evaluate(status_at(deadline - timedelta(days=d), deadline), memory)
        warned.append(alert.threshold if alert else None)
    return warned, memory


def test_one_warning_per_threshold_none_at_eight_days_none_at_the_deadline() -> None:
    warned, _ = run([8, 7, 7, 6.5, 3, 3, 1, 1, 0.5, 0, -1])
    assert warned == [None, 7, None, None, 3, None, 1, None, None, None, None]


def test_a_jump_over_thresholds_gives_one_warning_for_the_nearest_and_marks_the_rest() -> None:
    warned, memory = run([10, 2])
    assert warned == [None, 3]
    assert memory.sent("default", lf.deadline_key(DEADLINE)) == (3, 7)
    assert run([1], memory)[0] == [1]


def test_the_memory_survives_json_so_a_restart_never_repeats_a_warning() -> None:
    _, memory = run([7])
    restored = lf.LoginMemory.from_json(memory.to_json())
    assert restored == memory
    assert run([7, 6], restored)[0] == [None, None]
    assert run([3], restored)[0] == [3]


def test_a_new_deadline_re_arms_the_warnings() -> None:
    _, memory = run([7, 3, 1])
    new = DEADLINE + timedelta(days=29)
    assert run([30, 7], memory, deadline=new)[0] == [None, 7]


def test_held_warnings_are_not_marked_and_come_after_the_hold() -> None:
    status = status_at(DEADLINE - timedelta(days=6))
    alert, memory = lf.evaluate(status, lf.LoginMemory(), held=True)
    assert alert is None
    assert memory == lf.LoginMemory()
    alert, _ = lf.evaluate(status, memory)
    assert alert is not None
    assert alert.threshold == 7


def test_signed_out_or_unknown_deadline_never_warns() -> None:
    near = DEADLINE - timedelta(days=2)
    assert lf.evaluate(status_at(near, signed_in=False), lf.LoginMemory())[0] is None
    assert lf.evaluate(status_at(near, deadline=None), lf.LoginMemory())[0] is None


def test_the_warning_alert_says_what_to_run_and_carries_the_sign_in_button() -> None:
    alert, _ = lf.evaluate(status_at(DEADLINE - timedelta(days=2, hours=3)), lf.LoginMemory(), tz=UTC)
    assert alert is not None
    assert alert.kind is AlertKind.LOGIN_EXPIRING
    assert alert.title == "Claude Code login lapses in 2 days"
    assert "15 Dec" in alert.body
    assert "`claude auth login`" in alert.body
    assert alert.extra["actions"] == "login.sign_in=Open sign-in"
    assert alert.key.startswith("login:default:")
    assert alert.key.endswith(":3")


def test_texts_never_mention_the_access_token_and_count_whole_days() -> None:
    s = status_at(DEADLINE - timedelta(days=12, hours=5))
    assert lf.status_text(s, UTC) == "Login renews in 12 days (run `claude auth login` before 15 Dec)"
    assert lf.tooltip_line(s) == "Login renews in 12 days"
    assert s.days_left == 12
    last = status_at(DEADLINE - timedelta(hours=5))
    assert lf.tooltip_line(last) == "Login renews in 5 hours"
    assert last.days_left == 0
    gone = status_at(DEADLINE + timedelta(hours=1))
    assert gone.lapsed
    assert not gone.ok
    assert lf.status_text(gone, UTC) == "Login lapsed on 15 Dec: run `claude auth login`"
    assert lf.tooltip_line(status_at(DEADLINE, signed_in=False)) == "Signed out: run `claude auth login`"


def test_memory_from_bad_json_is_empty_or_drops_the_bad_entries() -> None:
    assert lf.LoginMemory.from_json("nonsense") == lf.LoginMemory()
    data = {"accounts": {"a": {"deadline": "k", "sent": [7, "x", True]}, "b": {"deadline": 3}, "c": []}}
    assert lf.LoginMemory.from_json(data).fired == {"a": ("k", (7,))}


def test_next_daily_check_is_today_at_nine_or_tomorrow() -> None:
    morning = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert lf.next_daily_check(morning, UTC) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert lf.next_daily_check(morning.replace(hour=9), UTC) == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_sleep_is_wall_time_running_ahead_of_monotonic_time() -> None:
    clock = FakeClock()
    wall, mono = clock.now(), clock.monotonic()
    clock.advance(3600)
    assert not lf.slept(wall, mono, clock.now(), clock.monotonic())
    clock.jump_wall(600)
    assert lf.slept(wall, mono, clock.now(), clock.monotonic())


def test_several_accounts_name_each_line_and_an_added_account_names_its_folder() -> None:
    now = DEADLINE - timedelta(days=2, hours=1)
    work = lf.LoginStatus(
        "Work", True, DEADLINE, now, label="Work", several=True, command=lf.sign_in_text("/h/.cw", "/h")
    )
    assert (
        lf.status_text(work, UTC)
        == "Work: Login renews in 2 days (run `CLAUDE_CONFIG_DIR=~/.cw claude auth login` before 15 Dec)"
    )
    assert lf.compact_text(work, UTC) == "Work: Login renews in 2 days (before 15 Dec)"
    assert lf.tooltip_line(work) == "Work: Login renews in 2 days"
    lapsed = lf.LoginStatus("Work", True, DEADLINE, DEADLINE + timedelta(hours=1), label="Work", several=True)
    assert lf.compact_text(lapsed, UTC) == "Work: Login lapsed on 15 Dec"
    assert lf.short_text(lapsed, UTC) == "lapsed on 15 Dec"
    unknown = lf.LoginStatus("default", True, None, now)
    assert (lf.short_text(unknown), lf.compact_text(unknown)) == (
        "deadline unknown",
        "Login deadline unknown",
    )
    out = lf.LoginStatus("default", False, None, now, label="Personal", several=True)
    assert (lf.short_text(out), lf.compact_text(out)) == ("signed out", "Personal: Signed out")
    alone = lf.LoginStatus("default", True, DEADLINE, now, label="Personal")
    assert lf.status_text(alone, UTC).startswith("Login renews in 2 days")  # one account: no label


def test_the_sign_in_command_shown_for_a_folder() -> None:
    assert lf.sign_in_text(None) == "claude auth login"
    assert (
        lf.sign_in_text("/home/me/.claude-work", "/home/me")
        == "CLAUDE_CONFIG_DIR=~/.claude-work claude auth login"
    )
    assert (
        lf.sign_in_text("/home/me/my work", "/home/me")
        == "CLAUDE_CONFIG_DIR='/home/me/my work' claude auth login"
    )
    assert lf.sign_in_text("/srv/it's") == "CLAUDE_CONFIG_DIR='/srv/it'\\''s' claude auth login"
    assert lf.sign_in_env(None) == {}
    assert lf.sign_in_env("/srv/w") == {"CLAUDE_CONFIG_DIR": "/srv/w"}
