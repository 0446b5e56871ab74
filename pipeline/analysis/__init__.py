"""Form analysis of tracked poses: runners, ground contacts and form deviations per video.

Entry point: :func:`analyse_detections` (a DETECTIONS table in, three tables out)::

    stitch fragments -> per runner: swap repair, gap fill, low-pass -> view -> gait
    -> running or not -> faults of docs/FORM_CUES.md -> runners / contacts / deviations

One module per stage: ``tracks`` (per-person time series), ``stitching`` (joining
fragments of one person), ``signals`` (swap repair, gap filling, low-pass), ``view``
(camera view per frame), ``gait`` (contacts, cadence), ``gravity`` (how much slowed: the
flight's fall), ``running`` (running or not, slowed or not), ``slow_motion`` (which part of the
clip is slowed), ``faults`` (the cues), ``registry`` (one entry per fault). The output tables'
schemas live with every other output's in :mod:`pipeline.schemas`.

Every person stays in ``runners``, runner or not. Every person also gets one
``deviations`` row per fault, so that every null value carries its reason: people who
walk or stand get ``not_running``; people whose gait could not be judged (too few steps
found) get ``too_few_strides``; runners get ``view``, ``occluded``, ``low_confidence`` or
``too_few_strides`` where a fault cannot be measured.
"""

from typing import TYPE_CHECKING, Any

from pipeline.analysis.settings import AnalysisSettings

if TYPE_CHECKING:
    from pipeline.analysis.analyse import VideoAnalysis, analyse_detections

#: Bump when a change to the analysis (or to tracking or rendering) changes what is written
#: for the same video and settings: incremental runs then reprocess every video once.
ANALYSIS_VERSION = "2026.12.29"

__all__ = ["ANALYSIS_VERSION", "AnalysisSettings", "VideoAnalysis", "analyse_detections"]


def __getattr__(name: str) -> Any:
    """``analyse_detections`` and ``VideoAnalysis`` load on first use, so that the fault registry
    (``pipeline.analysis.registry``) can be read by the output schemas without the analysis."""
    if name in ("VideoAnalysis", "analyse_detections"):
        from pipeline.analysis import analyse

        return getattr(analyse, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
