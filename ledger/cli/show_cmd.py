from __future__ import annotations

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("show")
@click.argument("initiative")
@click.argument("row")
@json_option
@root_option
@reports_errors
def show(initiative, row, as_json, root):
    """A row with its selector, latest evidence and the attempts that mention it."""
    from ledger.reading.show import row_details

    ws = open_workspace(root)
    data = row_details(ws, initiative, row)
    if as_json:
        print_json(data)
        return
    r = data["row"]
    click.echo(f"{initiative} {r['ref']} {r['token']} — {r['description']}")
    click.echo(f"  plan:      {r['file']}:{r['line']} ({data['phase'] or 'no phase'})")
    click.echo(
        f"  selector:  {data['selectors'][0] if data['selectors'] else '(none in guidance)'}"
    )
    for extra in data["selectors"][1:]:
        click.echo(f"             also: {extra}")
    python = data["python"]
    click.echo(f"  python:    {python['path'] or '(invalid)'} ({python['why']})")
    if data["tdd"]:
        click.echo(
            f"  tdd:       red {data['tdd']['red']} -> green {data['tdd']['green'] or '(not yet)'}"
        )
    latest = data["latest_evidence"]
    if latest:
        click.echo(
            f"  evidence:  {latest['report_dir']} — {latest['outcome']} in {latest['duration_s']}s ({data['runs']} runs)"
        )
    else:
        click.echo("  evidence:  no ledger-recorded runs")
    click.echo(
        f"  attempts:  {len(data['attempts'])} mention {r['id'] if r['has_id'] else r['ref']}"
    )
    for attempt in data["attempts"][-10:]:
        number = f"#{attempt['number']}" if attempt["number"] is not None else ""
        click.echo(
            f"    line {attempt['line']}: {attempt['text'][:110]} {number if number not in attempt['text'] else ''}".rstrip()
        )
