"""collapse() compares token totals and times first, for speed: it must still pick exactly what its
definition (the whole strength() and origin() tuples) picks, ties included."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trayapp.core.ledger import collapse, origin, strength

_small = st.integers(min_value=0, max_value=3)  # small ranges: many ties
_row = st.tuples(
    st.just(1), st.just("msg_A"), st.just("req_A"), st.just(0),
    st.integers(min_value=0, max_value=2),  # ts
    st.sampled_from(["s1", "s2"]), st.sampled_from(["/a", "/b", ""]), st.sampled_from(["m1", "m2"]),
    _small, _small, _small, _small, _small, st.integers(min_value=0, max_value=1),
    st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0])),
)  # fmt: skip


def _reference(a, b):
    best = a if strength(a) >= strength(b) else b
    first = a if origin(a) <= origin(b) else b
    return (best[0], best[1], best[2], best[3], first[4], first[5], first[6], *best[7:])


@given(_row, _row)
def test_collapse_matches_its_definition(a, b) -> None:
    assert collapse(a, b) == _reference(a, b)
    assert collapse(b, a) == _reference(b, a)
