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


@click.group("attempt")
def attempt():
    """Ledger attempts."""


@attempt.command("add")
@click.argument("initiative")
@click.option("--summary", required=True, help="What the loop did and found.")
@click.option("--row", help="The plan row this attempt is about.")
@click.option("--artifacts", help="Evidence path to cite.")
@click.option(
    "--number",
    type=click.IntRange(min=1),
    help='Use this pre-assigned attempt number (e.g. from input.md\'s "add Attempt #82"); refused (exit 2) if the initiative already has it.',
)
@click.option(
    "--create",
    is_flag=True,
    help="Allow an initiative with no plan folder and no ledger item yet (starts its item).",
)
@lock_timeout_option
@json_option
@root_option
@reports_errors
def add(initiative, summary, row, artifacts, number, create, lock_timeout_s, as_json, root):
    """Append the next numbered attempt to INITIATIVE's ledger item (or --number N).

    An unknown INITIATIVE (no plan folder, no ledger item) is refused, exit 2, unless --create."""
    from ledger.editing.attempt import add_manual_attempt

    ws = open_workspace(root)
    added = add_manual_attempt(
        ws, initiative, summary, row, artifacts, lock_timeout_s, number, create=create
    )
    data = {
        "initiative": initiative,
        "attempt": added.number,
        "file": ws.relative(added.path),
        "line": added.line,
        "layout": added.layout,
    }
    if as_json:
        print_json(data)
    else:
        click.echo(f"{initiative}: attempt #{added.number} appended to {data['file']}:{added.line}")
