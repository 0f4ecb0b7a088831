"""Timeline data mapping: filtering, grouping, resets, gaps, decimation, axis maths, hover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers.states import NOW, account_state, window_state
from trayapp.ui.timeline import Timeline
from trayapp.ui.timeline_model import Axis, build_series, decimate, nearest, view_span


def samples(
    start,
    count,
    step=timedelta(minutes=5),
    wid="five_hour",
    util=lambda i: float(i % 100),
    resets=lambda t: None,
):
    return [(start + i * step, wid, util(i), resets(start + i * step)) for i in range(count)]


def test_rows_outside_the_span_are_dropped_and_windows_grouped_in_order() -> None:
    since = NOW - timedelta(hours=24)
    rows = samples(NOW - timedelta(hours=30), 12 * 30) + samples(since, 10, wid="seven_day")
    series = build_series(rows, since, NOW, order=["seven_day", "five_hour"])
    assert [s.window_id for s in series] == ["seven_day", "five_hour"]
    pts = series[1].points()
    assert pts[0][0] >= since.timestamp()
    assert pts[-1][0] <= NOW.timestamp()


def test_reset_markers_where_resets_at_moves_on() -> None:
    first = NOW - timedelta(hours=3)

    def resets(t):
        return first if t < first else first + timedelta(hours=5)

    rows = samples(NOW - timedelta(hours=6), 60, util=lambda i: 80.0 if i < 36 else 5.0, resets=resets)
    (series,) = build_series(rows, NOW - timedelta(hours=24), NOW)
    assert series.resets == [first.timestamp()]


def test_jitter_in_resets_at_is_not_a_reset() -> None:
    base = NOW + timedelta(hours=1)
    rows = samples(
        NOW - timedelta(hours=1), 12, resets=lambda t: base + timedelta(seconds=(t.minute % 3) * 0.5)
    )
    (series,) = build_series(rows, NOW - timedelta(hours=2), NOW)
    assert series.resets == []


def test_gaps_break_the_line() -> None:
    rows = samples(NOW - timedelta(hours=10), 12) + samples(NOW - timedelta(hours=3), 12)
    (series,) = build_series(rows, NOW - timedelta(hours=24), NOW)
    assert len(series.segments) == 2


def test_ninety_days_decimate_to_a_few_hundred_points_and_keep_peaks() -> None:
    start = NOW - timedelta(days=90)
    rows = samples(start, 90 * 288, util=lambda i: 97.0 if i == 12345 else float(i % 50))
    (series,) = build_series(rows, start, NOW, max_points=400)
    pts = series.points()
    assert len(pts) <= 420
    assert max(v for _, v in pts) == 97.0
    assert pts == sorted(pts, key=lambda p: p[0])


def test_decimate_keeps_short_input_untouched() -> None:
    pts = [(float(i), float(i)) for i in range(10)]
    assert decimate(pts, 100) == pts


def test_axis_maps_time_and_percent_to_pixels() -> None:
    ax = Axis(t0=0.0, t1=100.0, left=10, top=20, width=200, height=100)
    assert ax.x(0) == 10
    assert ax.x(100) == 210
    assert ax.x(50) == 110
    assert ax.y(0) == 120
    assert ax.y(100) == 20
    assert ax.y(150) == 20
    assert ax.y(-5) == 120
    assert ax.t_at(110) == 50


def test_view_span_leaves_room_for_the_projection() -> None:
    since, end = view_span(NOW, "24h")
    assert since == NOW - timedelta(hours=24)
    assert end > NOW
    since7, _ = view_span(NOW, "7d")
    assert since7 == NOW - timedelta(days=7)


def test_nearest_sample_for_hover() -> None:
    rows = samples(NOW - timedelta(hours=1), 13)
    series = build_series(rows, NOW - timedelta(hours=2), NOW)
    s, (t, v) = nearest(series, (NOW - timedelta(minutes=31)).timestamp())
    assert datetime.fromtimestamp(t, UTC) == NOW - timedelta(minutes=30)


def test_widget_projection_and_hover(qtbot) -> None:
    tl = Timeline()
    qtbot.addWidget(tl)
    tl.resize(360, 150)
    state = account_state(window_state("five_hour", 40.0, timedelta(hours=2), rate=20.0))
    rows = samples(NOW - timedelta(hours=2), 24, util=lambda i: float(i) * 1.6)
    tl.set_data(rows, state, NOW, "24h")
    start, v0, end, v1 = tl.projections["five_hour"]
    assert v0 == 40.0
    assert end == (NOW + timedelta(hours=2)).timestamp()
    assert v1 == 80.0
    x = tl._axis().x((NOW - timedelta(minutes=60)).timestamp())
    assert tl.hover_text(x).endswith("5-hour 19%")
    tl.grab()  # paints without error


def test_stale_state_draws_no_projection(qtbot) -> None:
    tl = Timeline()
    qtbot.addWidget(tl)
    state = account_state(window_state("five_hour", 40.0, timedelta(hours=2), rate=20.0), stale=True)
    tl.set_data([], state, NOW)
    assert tl.projections == {}
    tl.grab()
