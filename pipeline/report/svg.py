"""Small inline SVG charts drawn by hand: a dot-and-line series with an optional dashed threshold."""

from __future__ import annotations

import math
from html import escape

_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 44, 10, 22, 24
_OK, _BAD, _LINE = "#2b6cb0", "#c53030", "#a0aec0"


def _span(values: list[float]) -> tuple[float, float]:
    """(low, high) of ``values`` with a little headroom; never a zero-width span."""
    low, high = min(values), max(values)
    if math.isclose(low, high):
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def _scale(value: float, low: float, high: float, start: float, length: float) -> float:
    return start + (value - low) / (high - low) * length


def dot_chart(
    xs: list[float],
    ys: list[float],
    title: str,
    x_unit: str,
    y_unit: str,
    threshold: float | None = None,
    width: int = 340,
    height: int = 150,
) -> str:
    """An SVG of points (``xs``, ``ys``) joined by a line; ``width``/``height`` in px.

    With ``threshold`` (in ``y_unit``), a dashed line is drawn there and points above it are red.
    Raises ValueError when ``xs`` and ``ys`` differ in length or are empty.
    """
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"dot_chart needs as many xs as ys and at least one point, got {len(xs)} and {len(ys)}")
    x_low, x_high = _span(xs)
    y_low, y_high = _span(ys + ([threshold] if threshold is not None else []))
    plot_w, plot_h = width - _PAD_LEFT - _PAD_RIGHT, height - _PAD_TOP - _PAD_BOTTOM

    def px(x: float) -> float:
        return _scale(x, x_low, x_high, _PAD_LEFT, plot_w)

    def py(y: float) -> float:
        return _scale(y, y_low, y_high, _PAD_TOP + plot_h, -plot_h)

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{_PAD_LEFT}" y="14" class="chart-title">{escape(title)} ({escape(y_unit)})</text>',
        f'<rect x="{_PAD_LEFT}" y="{_PAD_TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#cbd5e0"/>',
        _axis_labels(x_low, x_high, y_low, y_high, x_unit, width, height),
    ]
    if threshold is not None:
        parts.append(f'<line class="threshold" x1="{_PAD_LEFT}" x2="{_PAD_LEFT + plot_w}" y1="{py(threshold):.1f}" '
                     f'y2="{py(threshold):.1f}" stroke="{_BAD}" stroke-dasharray="5 4"/>')
    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    parts.append(f'<polyline points="{points}" fill="none" stroke="{_LINE}"/>')
    for x, y in zip(xs, ys, strict=True):
        colour = _BAD if threshold is not None and y > threshold else _OK
        tip = f"{x:.2f} {escape(x_unit)}: {y:.3g} {escape(y_unit)}"
        parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"><title>{tip}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _axis_labels(x_low: float, x_high: float, y_low: float, y_high: float, x_unit: str, width: int,
                 height: int) -> str:
    """Min/max tick labels of both axes and the x unit."""
    bottom, right = height - _PAD_BOTTOM, width - _PAD_RIGHT
    return (
        f'<text x="{_PAD_LEFT - 4}" y="{_PAD_TOP + 8}" text-anchor="end" class="tick">{y_high:.3g}</text>'
        f'<text x="{_PAD_LEFT - 4}" y="{bottom}" text-anchor="end" class="tick">{y_low:.3g}</text>'
        f'<text x="{_PAD_LEFT}" y="{bottom + 14}" class="tick">{x_low:.3g}</text>'
        f'<text x="{right}" y="{bottom + 14}" text-anchor="end" class="tick">{x_high:.3g} {escape(x_unit)}</text>'
    )


def interval_chart(labels: list[str], values: list[float | None], lows: list[float | None],
                   highs: list[float | None], flagged: list[bool | None], title: str, unit: str,
                   thresholds: tuple[float | None, float | None] = (None, None), width: int = 420,
                   height: int = 170) -> str:
    """An SVG of one value per session (``labels``, e.g. dates, left to right) with its interval as a
    whisker, red where ``flagged``, and dashed lines at the (low, high) thresholds, all in ``unit``.
    Sessions without a value are left as gaps. Raises ValueError when no session has a value."""
    seen = {i: v for i, v in enumerate(values) if v is not None}
    if not seen:
        raise ValueError("interval_chart needs at least one value")
    ys = [y for i in seen for y in (values[i], lows[i], highs[i]) if y is not None]
    y_low, y_high = _span(ys + [t for t in thresholds if t is not None])
    plot_w, plot_h = width - _PAD_LEFT - _PAD_RIGHT, height - _PAD_TOP - _PAD_BOTTOM

    def px(i: int) -> float:
        return _PAD_LEFT + (plot_w / 2 if len(labels) == 1 else i / (len(labels) - 1) * plot_w)

    def py(y: float) -> float:
        return _scale(y, y_low, y_high, _PAD_TOP + plot_h, -plot_h)

    bottom = height - _PAD_BOTTOM
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="{_PAD_LEFT}" y="14" class="chart-title">{escape(title)} ({escape(unit)})</text>',
        f'<rect x="{_PAD_LEFT}" y="{_PAD_TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#cbd5e0"/>',
        f'<text x="{_PAD_LEFT - 4}" y="{_PAD_TOP + 8}" text-anchor="end" class="tick">{y_high:.3g}</text>',
        f'<text x="{_PAD_LEFT - 4}" y="{bottom}" text-anchor="end" class="tick">{y_low:.3g}</text>',
        f'<text x="{_PAD_LEFT}" y="{bottom + 14}" class="tick">{escape(labels[0])}</text>',
        f'<text x="{width - _PAD_RIGHT}" y="{bottom + 14}" text-anchor="end" class="tick">{escape(labels[-1])}</text>',
    ]
    for t in thresholds:
        if t is not None:
            parts.append(f'<line class="threshold" x1="{_PAD_LEFT}" x2="{_PAD_LEFT + plot_w}" y1="{py(t):.1f}" '
                         f'y2="{py(t):.1f}" stroke="{_BAD}" stroke-dasharray="5 4"/>')
    points = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in seen.items())
    parts.append(f'<polyline points="{points}" fill="none" stroke="{_LINE}"/>')
    for i, value in seen.items():
        low, high, colour = lows[i], highs[i], _BAD if flagged[i] else _OK
        if low is not None and high is not None:
            parts.append(f'<line x1="{px(i):.1f}" x2="{px(i):.1f}" y1="{py(low):.1f}" y2="{py(high):.1f}" '
                         f'stroke="{colour}" stroke-width="2"/>')
        tip = f"{escape(labels[i])}: {value:.3g} {escape(unit)}"
        parts.append(f'<circle cx="{px(i):.1f}" cy="{py(value):.1f}" r="3.5" fill="{colour}"><title>{tip}</title>'
                     "</circle>")
    parts.append("</svg>")
    return "".join(parts)
