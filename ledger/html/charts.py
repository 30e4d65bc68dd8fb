"""The dashboard's inline SVG: a row's runtime over its runs, with its guardrail bands.

Built only from numbers and escaped text, so a page can inline it as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from ledger.running.outcome import Outcome


def format_duration(seconds: float | None) -> str:
    if not isinstance(seconds, (int, float)):
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)}m{int(secs):02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)}h{int(minutes):02d}m"


@dataclass(frozen=True)
class ChartBox:
    width: int = 240
    height: int = 64
    pad_left: int = 34
    pad_right: int = 6
    pad_top: int = 6
    pad_bottom: int = 14


def runtime_svg(
    runs: list[dict], bands: dict | None, box: ChartBox = ChartBox(), label: str = "runtime"
) -> Markup:
    """An inline SVG of durations over runs, with the baseline and the warn/fail bands.

    `runs`: dicts with `duration_s` (number), `outcome` and `when` (text), oldest
    first; runs without a duration are skipped. `bands`: {"baseline", "warn",
    "fail"} thresholds in seconds, or None. Returns markup built only from
    numbers and escaped text.
    """
    points = [
        r for r in runs if isinstance(r.get("duration_s"), (int, float)) and r["duration_s"] >= 0
    ]
    w, h = box.width, box.height
    x0, x1 = box.pad_left, w - box.pad_right
    y0, y1 = box.pad_top, h - box.pad_bottom  # y0 top, y1 bottom
    title = escape(label)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'role="img" aria-label="{title}">',
        f"<title>{title}</title>",
    ]
    if not points:
        parts.append(
            f'<text x="{w / 2:g}" y="{h / 2 + 4:g}" text-anchor="middle" class="muted">no timed runs</text></svg>'
        )
        return Markup("".join(parts))
    durations = [float(p["duration_s"]) for p in points]
    top = max(durations)
    drawn_bands = usable_bands(bands)
    if drawn_bands:
        top = max(top, drawn_bands["fail"] * 1.08)
    top = top * 1.05 if top > 0 else 1.0

    def y(value: float) -> float:
        return round(y1 - (y1 - y0) * (value / top), 2)

    def x(index: int) -> float:
        if len(points) == 1:
            return round((x0 + x1) / 2, 2)
        return round(x0 + (x1 - x0) * index / (len(points) - 1), 2)

    if drawn_bands:
        warn_y, fail_y, base_y = (
            y(drawn_bands["warn"]),
            y(drawn_bands["fail"]),
            y(drawn_bands["baseline"]),
        )
        parts.append(
            f'<rect class="band-ok" x="{x0}" y="{warn_y}" width="{x1 - x0}" height="{round(y1 - warn_y, 2)}"/>'
        )
        parts.append(
            f'<rect class="band-warn" x="{x0}" y="{fail_y}" width="{x1 - x0}" height="{round(warn_y - fail_y, 2)}"/>'
        )
        parts.append(
            f'<rect class="band-fail" x="{x0}" y="{y0}" width="{x1 - x0}" height="{round(fail_y - y0, 2)}"/>'
        )
        parts.append(f'<line class="baseline" x1="{x0}" y1="{base_y}" x2="{x1}" y2="{base_y}"/>')
    parts.append(f'<line class="axis" x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}"/>')
    parts.append(f'<line class="axis" x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}"/>')
    parts.append(
        f'<text class="tick" x="{x0 - 3}" y="{y0 + 7}" text-anchor="end">{escape(format_duration(top))}</text>'
    )
    parts.append(f'<text class="tick" x="{x0 - 3}" y="{y1}" text-anchor="end">0</text>')
    parts.append(f'<text class="tick" x="{x0}" y="{h - 2}">run 1</text>')
    if len(points) > 1:
        parts.append(
            f'<text class="tick" x="{x1}" y="{h - 2}" text-anchor="end">run {len(points)}</text>'
        )
    if len(points) > 1:
        path = " ".join(f"{x(i)},{y(d)}" for i, d in enumerate(durations))
        parts.append(f'<polyline class="trend" points="{path}"/>')
    for index, (point, duration) in enumerate(zip(points, durations, strict=True)):
        outcome = str(point.get("outcome") or "unknown")
        css = outcome if Outcome.known(outcome) else "unknown"
        tip = escape(
            f"run {index + 1}: {format_duration(duration)} {outcome} {point.get('when') or ''}".strip()
        )
        parts.append(
            f'<circle class="pt {css}" cx="{x(index)}" cy="{y(duration)}" r="3"><title>{tip}</title></circle>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def usable_bands(bands: dict | None) -> dict | None:
    """`bands` as floats when they can be drawn: all three present, positive and in order."""
    if not bands:
        return None
    try:
        values = {key: float(bands[key]) for key in ("baseline", "warn", "fail")}
    except (KeyError, TypeError, ValueError):
        return None
    if (
        not all(v > 0 for v in values.values())
        or not values["baseline"] <= values["warn"] <= values["fail"]
    ):
        return None
    return values
