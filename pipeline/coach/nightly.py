"""What a night's run says about the athletes: who was seen and what changed in their form."""

from __future__ import annotations

from pathlib import Path

from pipeline.analysis.registry import FAULTS
from pipeline.analysis.settings import AnalysisSettings
from pipeline.coach.names import active_names, read_names
from pipeline.coach.progress import GAIT_METRICS, NOT_COMPARED, SAME, athlete_progress, video_runners

CHANGED = frozenset({"better", "worse", "higher", "lower"})


def _label(metric: str) -> str:
    return FAULTS[metric].label if metric in FAULTS else GAIT_METRICS[metric][1]


def night_markdown(out_dir: str | Path, video_ids: list[str], settings: AnalysisSettings | None = None) -> str:
    """A page naming the athletes seen in ``video_ids`` (confirmed names; proposals listed apart) and,
    per athlete, each metric whose latest session differs measurably from the one before."""
    names = active_names(read_names(out_dir), video_runners(out_dir, video_ids))
    tonight = {k: r for k, r in names.items() if k[0] in set(video_ids)}
    seen = sorted({r["athlete"] for r in tonight.values() if r["confirmed"]})
    lines = ["# Athletes seen in this run", ""]
    if not seen:
        lines.append("No named athlete in this run's videos (`formwatch name DIR VIDEO RUNNER_ID \"Name\"`).")
    for athlete in seen:
        rows = [r for r in athlete_progress(out_dir, athlete, settings) if r["video_id"] in set(video_ids)]
        latest = max((r["session"] for r in rows), default=0)
        changes = [f"{_label(r['metric'])}: {r['change']} ({r['value']:.3g} {r['unit']})"
                   for r in rows if r["session"] == latest and r["change"] in CHANGED]
        flagged = [FAULTS[r["metric"]].cue for r in rows if r["session"] == latest and r["flagged"]]
        same = sum(r["session"] == latest and r["change"] == SAME for r in rows)
        first = all(r["change"] == NOT_COMPARED for r in rows if r["session"] == latest)
        summary = "first session" if first and latest == 1 else (
            "; ".join(changes) if changes else f"no measurable change ({same} metrics compared)")
        lines.append(f"- **{athlete}** (session {latest}): {summary}")
        lines += [f"  - {cue}" for cue in dict.fromkeys(flagged)]
    proposals = [r for r in tonight.values() if not r["confirmed"]]
    if proposals:
        lines += ["", "## Proposed, to confirm", *(
            f"- runner {r['track_id']} of `{r['video_id']}` looks like {r['athlete']}: "
            f"`formwatch name DIR {r['video_id']} {r['track_id']} \"{r['athlete']}\"`" for r in proposals)]
    return "\n".join(lines)
