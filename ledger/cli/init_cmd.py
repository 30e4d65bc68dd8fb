from __future__ import annotations

from pathlib import Path

import click

from ledger.cli.common import json_option, print_json, reports_errors


@click.command("init")
@click.option(
    "--git",
    "with_git",
    is_flag=True,
    help="Also register the ledger merge driver (git config, .gitattributes) and ignore .ledger.lock; runs `git init` if needed.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to scaffold (default: the current folder).",
)
@json_option
@reports_errors
def init(with_git, root, as_json):
    """Scaffold a workspace: plans/, docs/fix_plan.md, docs/findings.md, templates/.

    Idempotent: existing files are kept as they are; only missing ones are added.

    \b
    Exit codes: 0 ok, 2 bad input (folder missing, unreadable settings),
    4 locked.
    """
    from ledger.editing.init import init_workspace

    result = init_workspace(root if root is not None else Path.cwd(), with_git)
    if as_json:
        print_json(result.to_json())
        return
    for name in result.created:
        click.echo(f"created  {name}")
    for name in result.updated:
        click.echo(f"updated  {name}")
    for note in result.notes:
        click.echo(f"note     {note}")
    click.echo(
        f"{result.root}: {len(result.created)} created, {len(result.updated)} updated, {len(result.kept)} already present"
    )
