"""Overlapped stages: values in order, errors where they happened, and the GIL handed over quickly."""

from __future__ import annotations

import sys
import threading

import pytest

from pipeline.stream import QUICK_SWITCH_S, ahead, quick_switches


@pytest.fixture
def default_switch():
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


def test_ahead_hands_over_every_value_in_order_and_raises_where_the_stage_failed():
    assert list(ahead(iter(range(50)), depth=3)) == list(range(50))

    def failing():
        yield 1
        raise ValueError("frame 2 is broken")

    got = []
    with pytest.raises(ValueError, match="frame 2"):
        for value in ahead(failing(), depth=2):
            got.append(value)
    assert got == [1]


def test_quick_switches_shortens_the_interval_inside_and_restores_it_after(default_switch):
    with quick_switches():
        assert sys.getswitchinterval() == pytest.approx(QUICK_SWITCH_S, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)


def test_quick_switches_never_lengthens_an_interval_already_shorter(default_switch):
    sys.setswitchinterval(0.0001)
    with quick_switches():
        assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.05)


def test_videos_processed_at_once_keep_it_short_until_the_last_one_ends(default_switch):
    """Two videos in threads: the first to finish must not put the interval back under the other."""
    first_in, second_in, first_out, second_checked = (threading.Event() for _ in range(4))
    seen = {}

    def first():
        with quick_switches():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with quick_switches():
            second_in.set()
            first_out.wait(5)
            seen["after the first ended"] = sys.getswitchinterval()
        second_checked.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert second_checked.is_set()
    assert seen["after the first ended"] == pytest.approx(QUICK_SWITCH_S, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)


def test_quick_switches_restores_the_interval_when_the_block_raises(default_switch):
    with pytest.raises(RuntimeError), quick_switches():
        raise RuntimeError("a video failed")
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)
