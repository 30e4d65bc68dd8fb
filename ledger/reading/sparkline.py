"""A self-styled inline SVG sparkline: it must render inside a Markdown file, with no stylesheet."""

from __future__ import annotations

from html import escape

from ledger.running.outcome import Outcome

OUTCOME_COLOURS: dict[str, str] = {
    Outcome.PASSED: "#2da44e",
    Outcome.FAILED: "#cf222e",
    Outcome.ERROR: "#cf222e",
    Outcome.TIMEOUT: "#bf8700",
    Outcome.INTERRUPTED: "#8c959f",
}


def sparkline_svg(
    durations: list[float],
    outcomes: list[str],
    bands: dict | None,
    width: int = 320,
    height: int = 60,
) -> str:
    """Durations left to right (oldest first), a dashed baseline and warn/fail lines when known."""
    pad = 4
    top = (
        max([*durations, *((bands or {}).get(k, 0) for k in ("fail",))], default=1.0) * 1.08 or 1.0
    )

    def x(index: int) -> float:
        return round(
            pad + (width - 2 * pad) * (index / (len(durations) - 1) if len(durations) > 1 else 0.5),
            1,
        )

    def y(value: float) -> float:
        return round(height - pad - (height - 2 * pad) * value / top, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(f"durations of {len(durations)} runs")}">'
    ]
    if bands:
        for key, colour, dash in (
            ("baseline", "#1a7f37", "4 3"),
            ("warn", "#bf8700", "2 2"),
            ("fail", "#cf222e", "2 2"),
        ):
            value = bands.get(key)
            if value:
                parts.append(
                    f'<line x1="{pad}" y1="{y(value)}" x2="{width - pad}" y2="{y(value)}" stroke="{colour}" '
                    f'stroke-width="1" stroke-dasharray="{dash}"><title>{key} {value:.2f}s</title></line>'
                )
    if len(durations) > 1:
        points = " ".join(f"{x(i)},{y(d)}" for i, d in enumerate(durations))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="#57606a" stroke-width="1.5"/>'
        )
    for index, (duration, outcome) in enumerate(zip(durations, outcomes, strict=True)):
        colour = OUTCOME_COLOURS.get(outcome, "#8c959f")
        parts.append(
            f'<circle cx="{x(index)}" cy="{y(duration)}" r="2.5" fill="{colour}"><title>run {index + 1}: '
            f"{duration:.2f}s {escape(outcome)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
