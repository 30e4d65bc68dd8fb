from __future__ import annotations

import click

from ledger.cli.common import (
    json_option,
    lock_timeout_option,
    open_workspace,
    print_json,
    reports_errors,
    root_option,
)


@click.command("mark")
@click.argument("initiative")
@click.argument("row")
@click.argument("state")
@click.option("--note", help="Text appended to the row's guidance (escaped for the table).")
@lock_timeout_option
@json_option
@root_option
@reports_errors
def mark(initiative, row, state, note, lock_timeout_s, as_json, root):
    """Set ROW's STATE (done|partial|open, or [x] [P] [ ]) by hand."""
    from ledger.editing.mark import mark_row

    ws = open_workspace(root)
    change = mark_row(ws, initiative, row, state, note, lock_timeout_s)
    data = {
        "initiative": initiative,
        "row": row,
        "file": ws.relative(change.path),
        "line": change.line,
        "state_before": change.state_before,
        "state_after": change.state_after,
        "token_before": change.token_before,
        "token_after": change.token_after,
    }
    if as_json:
        print_json(data)
    else:
        click.echo(
            f"{initiative} {row}: {change.token_before} -> {change.token_after} ({data['file']}:{change.line})"
        )
