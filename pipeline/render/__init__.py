"""Annotated clips: overlays drawn on the footage and per-runner highlight reels, as H.264 MP4."""

from pipeline.render.clips import render_annotated, render_highlight, render_video_clips
from pipeline.render.settings import RenderSettings
from pipeline.render.writer import H264Writer

__all__ = ["H264Writer", "RenderSettings", "render_annotated", "render_highlight", "render_video_clips"]
