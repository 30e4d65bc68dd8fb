from __future__ import annotations

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("profile")
@click.argument("initiative")
@click.argument("row")
@click.option(
    "--no-write", is_flag=True, help="Print the statistics only; do not write runtime_profile.md."
)
@json_option
@root_option
@reports_errors
def profile(initiative, row, no_write, as_json, root):
    """Runtime statistics and guardrails of ROW's recorded runs; writes runtime_profile.md.

    \b
    The baseline is the median of the last N passing runs ([tool.ledger]
    baseline_runs, default 5); warn at guardrail_warn x baseline (1.7), fail at
    guardrail_fail x (2.5). runtime_profile.md goes into the newest intact
    report folder of the row, and its hash into that folder's manifest.
    Exit codes: 0 done, 2 bad input (unknown initiative or row).
    """
    from ledger.reading.profile import profile_row, write_runtime_profile
    from ledger.running.evidence import utc_now

    ws = open_workspace(root)
    stats, manifests = profile_row(ws, initiative, row)
    if not no_write:
        written = write_runtime_profile(
            ws, stats, manifests, utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        stats.written = ws.relative(written) if written else None
    if as_json:
        print_json(stats.to_json())
        return
    click.echo(
        f"{initiative} {stats.row}: {stats.count} timed run{'s' if stats.count != 1 else ''}"
        + (f"  selector: {stats.selector}" if stats.selector else "")
    )
    for run in stats.runs:
        duration = f"{run.duration_s:8.2f}s" if run.duration_s is not None else "       -"
        click.echo(f"  {run.folder:<72} {run.outcome or 'incomplete':<12} {duration}")
    if stats.count:
        click.echo(
            f"  mean {stats.mean_s:.2f}s  stdev {stats.stdev_s:.2f}s  cv {stats.cv * 100 if stats.cv is not None else 0:.1f}%  "
            f"min {stats.min_s:.2f}s  max {stats.max_s:.2f}s"
        )
    if stats.bands:
        b = stats.bands
        click.echo(
            f"  baseline {b.baseline:.2f}s (median of {b.runs} passing)  warn {b.warn:.2f}s  fail {b.fail:.2f}s"
        )
    if stats.latest_verdict:
        click.echo(f"  newest passing run: {stats.latest_verdict}")
    if not no_write:
        click.echo(
            f"  wrote {stats.written}"
            if stats.written
            else "  no intact report folder to write runtime_profile.md into"
        )
