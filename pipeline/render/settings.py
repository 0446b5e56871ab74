"""Settings of the annotated clips: encoding, output size, highlights and face blurring."""

from __future__ import annotations

from typing import Literal

from pipeline.settings_base import Section, setting


class RenderSettings(Section):
    """How annotated clips and per-runner highlight clips are drawn and encoded (H.264 MP4)."""

    clips: bool = setting(
        True, "Write the annotated clip of every video and a highlight clip per runner with a flagged "
        "fault (clips/<video_id>/). --no-clips turns it off for stats-only runs.",
    )
    crf: int = setting(
        23, "H.264 constant rate factor: lower is better quality and bigger files; 18 looks "
        "visually lossless, 28 is small.", unit="CRF", ge=0, le=51,
    )
    preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
    ] = setting(
        "veryfast", "libx264 speed preset: slower presets make smaller files at the same quality."
    )
    max_height_px: int = setting(
        1080, "Annotated clips taller than this are downscaled to it (aspect kept, even sizes).",
        unit="px", ge=16,
    )
    slowmo_factor: int = setting(
        4, "Highlights play this many times slower than real time (each frame repeated).",
        unit="x", ge=1, le=32,
    )
    highlight_window_s: float = setting(
        1.5, "A highlight segment spans this long before and after the frame where the fault is worst.",
        unit="s", gt=0.0, le=30.0,
    )
    highlight_size_px: int = setting(
        480, "Side of the square highlight crop that follows the runner (rounded down to even).",
        unit="px", ge=64, le=2160,
    )
    blur_faces: Literal["none", "others", "all"] = setting(
        "others", "Faces blurred: 'none'; 'others' (highlights: everyone but the runner shown; "
        "annotated clips: everyone who is not a runner); 'all'.",
    )
