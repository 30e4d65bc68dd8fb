from __future__ import annotations

import sys

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option
from ledger.cli.completion import complete_initiative


@click.command("selectors")
@click.argument("initiative", required=False, shell_complete=complete_initiative)
@click.option(
    "--collect",
    is_flag=True,
    help="Run `pytest --collect-only -q` for each selector and count its tests.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds per collection.",
)
@click.option(
    "--markdown",
    is_flag=True,
    help="Print the map as a Markdown document (templates/selector_map.md.j2).",
)
@json_option
@root_option
@reports_errors
def selectors(initiative, collect, timeout_s, markdown, as_json, root):
    """The selector map: each row's pytest selector and its env overrides.

    \b
    Exit codes: 0 ok, 1 with --collect: a selector is elided, fails to
    collect or collects 0 tests, 2 bad input (unknown initiative) or, with
    --collect, a selector the selector policy refuses (one `ledger: error:`
    line each on stderr naming its rule and file:line; it is never run).
    """
    from ledger.running.selectors import collect_entries, selector_map

    ws = open_workspace(root)
    if initiative:
        ws.initiative_dir(initiative)
    entries = selector_map(ws, initiative)
    if collect:
        collect_entries(ws, entries, timeout_s)
    flagged = [entry for entry in entries if entry.flagged]
    refused = [entry for entry in entries if entry.refused]
    if markdown and not as_json:
        from ledger.running.evidence import utc_now
        from ledger.running.selectors import render_markdown

        stamp = utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(render_markdown(ws, entries, initiative, collect, stamp), nl=False)
    elif as_json:
        print_json(
            {
                "root": str(ws.root),
                "collected": collect,
                "selectors": [entry.to_json() for entry in entries],
                "flagged": len(flagged),
            }
        )
    else:
        if not entries:
            click.echo("no rows name a pytest selector")
        for entry in entries:
            env = " ".join(f'{k}=""' if v == "" else f"{k}={v}" for k, v in entry.env.items())
            where = f"{entry.file}:{entry.line}"
            if entry.error:
                click.echo(f"{entry.initiative} {entry.row:<8} {where}  REFUSED: {entry.error}")
                continue
            counted = ""
            if collect:
                if entry.collect_error:
                    counted = f"  [collect failed: {entry.collect_error}]"
                else:
                    note = f": {entry.collect_detail}" if entry.collect_detail else ""
                    counted = f"  [{entry.collected} tests]" + (
                        f"  <- collects nothing{note}" if entry.collected == 0 else ""
                    )
            click.echo(
                f"{entry.initiative} {entry.row:<8} {where}  {entry.display}{'  env: ' + env if env else ''}{counted}"
            )
        if collect:
            click.echo(f"{len(entries)} selectors, {len(flagged)} flagged")
    if collect:
        for entry in refused:
            click.echo(f"ledger: error: {entry.file}:{entry.line}: {entry.error}", err=True)
    sys.exit(2 if collect and refused else 1 if collect and flagged else 0)
