"""Annotated clips: overlays drawn on the footage and per-runner highlight reels, as H.264 MP4.

The clip makers are imported on first use (PEP 562): the settings (``pipeline.render.settings``)
are read by every command, the encoders and PyAV only by those that render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.render.settings import RenderSettings

if TYPE_CHECKING:
    from pipeline.render.clips import render_annotated, render_highlight, render_video_clips
    from pipeline.render.writer import H264Writer

__all__ = ["H264Writer", "RenderSettings", "render_annotated", "render_highlight", "render_video_clips"]


def __getattr__(name: str) -> Any:
    if name in ("render_annotated", "render_highlight", "render_video_clips"):
        from pipeline.render import clips

        return getattr(clips, name)
    if name == "H264Writer":
        from pipeline.render.writer import H264Writer

        return H264Writer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
