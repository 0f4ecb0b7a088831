"""``dumps_pretty`` (the report's fast JSON writer) is byte-identical to
``json.dumps(obj, indent=2, ensure_ascii=False)`` on any JSON-shaped value, and hands anything else
to the json module."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trayapp.cli._report_render import dumps_pretty

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


def _reference(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(values)
def test_same_text_as_json_dumps(obj: Any) -> None:
    assert dumps_pretty(obj) == _reference(obj)


def test_edge_values() -> None:
    cases: list[Any] = [
        {
            "é": 'naïve ☃ \u2028 \x00 "q" \\ \n',
            "emoji": "🙂",
            "nan": float("nan"),
            "inf": float("inf"),
            "-inf": float("-inf"),
            "tiny": 5e-324,
            "big": 1e300,
            "neg0": -0.0,
            "int": -(2**70),
        },  # fmt: skip
        [],
        {},
        [[], {}, [[]], {"a": {}}],
        ("tuple", 1, [2]),
        "plain",
        3,
    ]
    for obj in cases:
        assert dumps_pretty(obj) == _reference(obj)


def test_values_outside_json_types_fall_back_to_json() -> None:
    class Num(int):
        pass

    for obj in ({1: "int key"}, {"n": Num(5)}, {True: None}, [1.5, {None: 2}]):
        assert dumps_pretty(obj) == _reference(obj)
