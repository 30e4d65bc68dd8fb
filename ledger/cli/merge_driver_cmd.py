from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.cli.common import json_option, print_json, reports_errors, root_option


@click.command("merge-driver")
@click.argument("base", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("current", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("other", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("path", required=False)
@click.option(
    "--marker-size",
    type=int,
    default=7,
    show_default=True,
    help="Conflict marker length (git's %L).",
)
@json_option
@root_option
@reports_errors
def merge_driver(base, current, other, path, marker_size, as_json, root):
    """Git merge driver for docs/fix_plan.md and plan files (%O %A %B %P).

    Merges concurrent attempt appends and row state flips without conflict
    markers and writes the result into CURRENT (%A). Where both sides numbered
    attempts alike, the published side keeps its numbers (the upstream: %B
    under `git merge`, %A under a rebase, `pull --rebase` or its autostash) and
    the local ones follow, each marked `renumbered from #N at merge` and
    reported on stderr. Settings (ledger path, state tokens) come from --root,
    default the current folder, which is where git runs drivers. Registered by `ledger init --git` as
    `ledger merge-driver %O %A %B %P`.

    \b
    Exit codes: 0 merged cleanly, 1 real conflicts remain (markers written),
    2 bad input (a file is not UTF-8 text).
    """
    from ledger.editing.merge import merge_files

    outcome = merge_files(base, current, other, path, marker_size, settings_root=root)
    name = path or str(current)
    if as_json:
        print_json(
            {
                "path": name,
                "clean": outcome.clean,
                "conflicts": outcome.conflicts,
                "notes": outcome.notes,
            }
        )
    for note in outcome.notes:
        click.echo(f"ledger merge-driver: {name}: {note}", err=True)
    if not outcome.clean:
        click.echo(
            f"ledger merge-driver: {name}: {outcome.conflicts} conflict(s) left with markers",
            err=True,
        )
    sys.exit(0 if outcome.clean else 1)
