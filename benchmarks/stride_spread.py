"""How much a runner's per-stride value of each fault varies from stride to stride.

    .venv/bin/python benchmarks/stride_spread.py OUT [OUT ...] [--min-strides N] [--hold-out CLIP]

Re-runs today's analysis on the stored detections of every ok video in each output folder
(written by ``formwatch run``) and records, for every runner and fault, the per-stride (per-step,
per-contact) samples the verdict is made from. For runners with at least ``--min-strides``
samples it prints, per fault, each clip's median within-runner standard deviation (robust:
1.4826 x the median absolute deviation), the median over all those runners, and the spread of
the runners' variances expressed as the degrees of freedom a chi-square of that spread has
(2 / CV^2 of the variances, by moments).

These are the ``stride_sd`` and ``PRIOR_STRIDES`` of :mod:`pipeline.analysis.registry`: the
stride-to-stride spread a runner seen for one or two strides is assumed to have, so that the
verdict's interval is honest where a bootstrap over one or two strides cannot be.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import pipeline.analysis.faults as faults  # noqa: E402
from pipeline.analysis import analyse_detections  # noqa: E402
from pipeline.analysis.registry import DEVIATIONS, fault  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.outputs import dataset_file, open_dataset  # noqa: E402
from pipeline.schemas import DETECTIONS  # noqa: E402


def robust_sd(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def collect(outs: list[Path], min_strides: int) -> dict[str, dict[str, list[float]]]:
    """fault -> clip -> within-runner SDs of runners with at least ``min_strides`` samples."""
    # the last measurement of a (clip, track, fault) wins: a slow-motion clip is analysed twice
    # (at the container's rate, then at the real one) and a slowed mover is re-measured as not
    # running, so only what the outputs finally hold counts
    last: dict[tuple[str, int, str], float | None] = {}
    real = faults.summarise
    clip = ""

    def recording(ctx, measure, samples, *args, **kwargs):  # type: ignore[no-untyped-def]
        values = samples[np.isfinite(samples)]
        kept = ctx.is_runner and len(values) >= min_strides
        last[(clip, ctx.track.track_id, measure.name)] = robust_sd(values) if kept else None
        return real(ctx, measure, samples, *args, **kwargs)

    real_gate = faults._gate

    def gating(ctx, measure, *args, **kwargs):  # type: ignore[no-untyped-def]
        reason = real_gate(ctx, measure, *args, **kwargs)
        if reason is not None:  # not measured this time: an earlier sample no longer counts
            last[(clip, ctx.track.track_id, measure.name)] = None
        return reason

    # observe the samples; the analysis itself is unchanged
    faults.summarise, faults._gate = recording, gating
    settings = load_settings(None)
    try:
        for out in outs:
            videos = open_dataset(out, "videos").to_table().filter(pc.equal(pc.field("status"), "ok"))
            for row in videos.to_pylist():
                clip = Path(row["path"]).name
                detections = pq.read_table(dataset_file(out, "detections", row["video_id"]), schema=DETECTIONS)
                analyse_detections(detections, row["fps"], row["width"], row["height"],
                                   settings.analysis.for_video(clip, row["video_id"]), row.get("shot_starts") or (),
                                   row.get("frames_per_picture") or 1.0)
    finally:
        faults.summarise, faults._gate = real, real_gate
    spreads: dict[str, dict[str, list[float]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for (name, _, fault_name), sd in last.items():
        if sd is not None:
            spreads[fault_name][name].append(sd)
    return spreads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outs", type=Path, nargs="+", help="output folders of formwatch run")
    parser.add_argument("--min-strides", type=int, default=4, help="fewest samples a runner needs to count")
    parser.add_argument("--hold-out", action="append", default=[], help="clip file name left out of the totals")
    args = parser.parse_args()
    spreads = collect(args.outs, args.min_strides)
    print("| fault | unit | per clip: median SD (runners) | all: median SD | runners | clips | prior dof |")
    print("|---|---|---|---|---|---|---|")
    for spec in map(fault, DEVIATIONS):
        by_clip = spreads.get(spec.name, {})
        kept = [sd for clip, sds in by_clip.items() if clip not in args.hold_out for sd in sds]
        cells = ", ".join(f"{clip.split('.')[0][:18]} {np.median(sds):.3g} ({len(sds)})"
                          for clip, sds in sorted(by_clip.items()))
        if not kept:
            print(f"| {spec.name} | {spec.unit} | {cells} | | 0 | 0 | |")
            continue
        variances = np.square(kept)
        cv2 = float(np.var(variances) / np.mean(variances) ** 2) if np.mean(variances) else float("nan")
        clips = sum(1 for clip in by_clip if clip not in args.hold_out)
        print(f"| {spec.name} | {spec.unit} | {cells} | {np.median(kept):.3g} | {len(kept)} | {clips} "
              f"| {2 / cv2 if cv2 else float('inf'):.1f} |")


if __name__ == "__main__":
    main()
