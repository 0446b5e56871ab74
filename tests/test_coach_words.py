"""The coach's words: every fault has its cue and drill in the registry, and every place that shows a
flagged fault leads with the cue (stats, artifacts, captions, the report)."""

from __future__ import annotations

import re

import pytest
from conftest import SHARED

from pipeline.analysis.registry import FAULTS, coach_words
from pipeline.render.people import caption_text
from pipeline.stats import fault_text

FLAGGED = {"video_id": "v", "track_id": 1, "deviation": "overstride", "value": 0.213, "value_low": 0.18,
           "value_high": 0.25, "unit": "leg lengths", "flagged": True, "fraction_flagged": 0.62, "worst_frame": 3}


@pytest.mark.parametrize("name", FAULTS)
def test_every_fault_has_a_cue_and_a_drill(name: str) -> None:
    assert FAULTS[name].cue and FAULTS[name].drill
    assert coach_words(name).startswith(FAULTS[name].cue)


def test_cues_are_the_coachs_words() -> None:
    doc = SHARED / "docs" / "FORM_CUES.md"
    if not doc.is_file():
        pytest.skip(f"{doc} is not present")
    text = re.sub(r"\s+", " ", doc.read_text(encoding="utf-8")).casefold()
    for spec in FAULTS.values():
        clauses = [c.strip().casefold() for c in spec.cue.split(",")]
        assert any(c in text for c in clauses), spec.name
        assert spec.cue.split(",")[0].casefold() in text or spec.sample == "mid_stance", spec.name


def test_stats_and_artifacts_lead_with_the_cue() -> None:
    text = fault_text(FLAGGED)
    assert text.startswith("Land your foot under your hips, not out in front — Overstride 0.213 [0.18-0.25]")
    assert text.endswith("Drill: " + FAULTS["overstride"].drill)


def test_captions_lead_with_the_cue() -> None:
    assert caption_text(FLAGGED).split("\n")[0] == "Land your foot under your hips, not out in front"
