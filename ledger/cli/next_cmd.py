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
    from ledger.reading.next_row import next_row
    from ledger.running.selector import find_selectors

    ws = open_workspace(root)
    answer = next_row(ws, initiative)
    waiting = [{"initiative": i, "row": r, "waiting_for": unmet} for i, r, unmet in answer.waiting]
    if answer.found is None:
        if as_json:
            print_json({"next": None, "waiting": waiting, "skipped_items": [{"initiative": i, "status": s} for i, s in answer.skipped_items]})
        else:
            click.echo("nothing left to work" + (f" in {initiative}" if initiative else ""))
            for entry in waiting:
                click.echo(f"  waiting: {entry['initiative']} {entry['row']} on {', '.join(entry['waiting_for'])}")
        sys.exit(1)
    found = answer.found
    row = found.row
    selectors = find_selectors(row.guidance) or find_selectors(row.description)
    data = {
        "initiative": found.initiative,
        "row": row.ref,
        "id": row.id,
        "state": row.state,
        "state_token": row.state_token,
        "description": row.description,
        "file": ws.relative(row.path),
        "line": row.line,
        "phase": row.phase.title if row.phase else None,
        "selector": selectors[0] if selectors else None,
        "depends_on": found.depends_on,
        "waiting": waiting,
    }
    if as_json:
        print_json({"next": data, **data})
    else:
        click.echo(f"{found.initiative} {row.ref} {row.state_token} — {row.description} ({data['file']}:{row.line})")
