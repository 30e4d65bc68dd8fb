from __future__ import annotations

import sys

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("next")
@click.argument("initiative", required=False)
@json_option
@root_option
@reports_errors
def next_(initiative, as_json, root):
    """The next open or partial row to work, in plan order (TODO rows included).

    A row whose guidance says `Depends on: A1, B.B2` waits for those rows; an
    initiative whose ledger item says `Depends on: OTHER-001` waits for all of
    OTHER-001; without INITIATIVE, items whose Status is blocked or done are skipped.

    \b
    Exit codes: 0 a row to work, 1 nothing left (a loop can stop), 2 bad input.
    """
    from ledger.reading.next_row import next_row, next_row_data

    ws = open_workspace(root)
    data = next_row_data(ws, next_row(ws, initiative))
    if data["next"] is None:
        if as_json:
            print_json(data)
        else:
            click.echo("nothing left to work" + (f" in {initiative}" if initiative else ""))
            for entry in data["waiting"]:
                click.echo(
                    f"  waiting: {entry['initiative']} {entry['row']} on {', '.join(entry['waiting_for'])}"
                )
        sys.exit(1)
    if as_json:
        print_json(data)
    else:
        row = data["next"]
        click.echo(
            f"{row['initiative']} {row['row']} {row['state_token']} — {row['description']} ({row['file']}:{row['line']})"
        )
