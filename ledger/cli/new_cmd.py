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


@click.command("new")
@click.argument("initiative")
@click.option(
    "--title", required=True, help="One-line title for the plan heading and the ledger item."
)
@lock_timeout_option
@json_option
@root_option
@reports_errors
def new(initiative, title, lock_timeout_s, as_json, root):
    """Create INITIATIVE's plan (from templates/plan.md.j2) and its ledger item.

    \b
    Exit codes: 0 ok, 2 bad input (invalid id, plan already exists),
    4 workspace locked.
    """
    from ledger.editing.new import new_initiative

    ws = open_workspace(root)
    result = new_initiative(ws, initiative, title, lock_timeout_s)
    if as_json:
        print_json({"initiative": initiative, **result.to_json()})
        return
    for name in result.created:
        click.echo(f"created  {name}")
    for name in result.updated:
        click.echo(f"updated  {name}")
    for name in result.kept:
        click.echo(f"kept     {name}")
    for note in result.notes:
        click.echo(f"note     {note}")
