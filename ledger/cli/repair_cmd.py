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


@click.command("repair")
@lock_timeout_option
@json_option
@root_option
@reports_errors
def repair(lock_timeout_s, as_json, root):
    """Complete a run a killed `ledger do` left half-recorded (row flipped, attempt missing), and
    mark abandoned the report folders of runs killed before they recorded anything.

    Every writing command does this first on its own; this says what it did, and also marks
    abandoned the incomplete folders no running `do` owns that older versions left."""
    from ledger.editing.locking import workspace_lock
    from ledger.editing.repair import repair as repair_workspace

    ws = open_workspace(root)
    with workspace_lock(ws.root, lock_timeout_s, repair=False):
        done = repair_workspace(ws, sweep=True)
    if as_json:
        print_json({"repaired": done})
    else:
        for line in done or ["nothing to repair: no half-recorded run"]:
            click.echo(line)
