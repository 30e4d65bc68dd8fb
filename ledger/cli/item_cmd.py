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
from ledger.documents.fix_plan import ItemStatus


@click.command("item")
@click.argument("initiative")
@click.option(
    "--status",
    "status",
    required=True,
    type=click.Choice([status.value for status in ItemStatus]),
    help="The ledger item's new Status: value.",
)
@lock_timeout_option
@json_option
@root_option
@reports_errors
def item(initiative, status, lock_timeout_s, as_json, root):
    """Set INITIATIVE's ledger item `Status:` field (only that value's bytes change)."""
    from ledger.editing.item_status import set_item_status

    ws = open_workspace(root)
    change = set_item_status(ws, initiative, status, lock_timeout_s)
    data = {
        "initiative": initiative,
        "file": ws.relative(ws.ledger_path),
        "line": change.line,
        "status_before": change.before,
        "status_after": change.after,
    }
    if as_json:
        print_json(data)
    else:
        click.echo(
            f"{initiative}: Status {change.before or '(none)'} -> {change.after} ({data['file']}:{change.line})"
        )
