"""A self-contained HTML report of an output folder: one section per video, one card per runner.

``write_report(DIR)`` reads the Parquet datasets of ``DIR`` and writes ``DIR/report.html`` with
inline CSS and inline SVG charts, runner thumbnails under ``DIR/report_assets/`` and the clips
of ``DIR/clips/`` embedded by relative path. Nothing in the page reaches the network.
"""

from __future__ import annotations

from pipeline.report.build import write_report

__all__ = ["write_report"]
