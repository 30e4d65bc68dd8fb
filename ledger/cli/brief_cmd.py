from __future__ import annotations

from datetime import UTC
from pathlib import Path

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option
from ledger.cli.completion import complete_initiative, complete_row
from ledger.documents.directive import DirectiveMode
from ledger.documents.states import RowState


@click.command("brief")
@click.argument("initiative", shell_complete=complete_initiative)
@click.argument("row", shell_complete=complete_row)
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in DirectiveMode], case_sensitive=False),
    help="Directive mode (default: TDD when the row maps a selector, else none).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the directive to this file (e.g. input.md) instead of stdout.",
)
@click.option(
    "--at",
    "at",
    help="Use this UTC time (YYYY-MM-DDTHHMMSSZ) for the report folder, for reproducible output.",
)
@json_option
@root_option
@reports_errors
def brief(initiative, row, mode, output, at, as_json, root):
    """Render a supervisor directive (input.md) for ROW of INITIATIVE.

    The text comes from templates/input.md.j2; a workspace overrides it by
    keeping its own copy in its templates folder.

    \b
    Exit codes: 0 ok, 2 bad input (unknown initiative or row, bad --at),
    4 locked.
    """
    from ledger.directives.brief import brief_context, render_brief
    from ledger.editing.writes import write_bytes_atomic
    from ledger.running.evidence import utc_now

    ws = open_workspace(root)
    now = _parse_at(at) if at else utc_now()
    context = brief_context(ws, initiative, row, mode, now)
    text = render_brief(ws, context)
    if output is not None:
        write_bytes_atomic(output, text.encode("utf-8"))
    if as_json:
        print_json({"output": str(output) if output else None, "text": text, "context": context})
    elif output is None:
        click.echo(text, nl=False)
    else:
        click.echo(
            f"wrote {output} ({context['initiative']} {context['row']}, artifacts {context['artifacts']})"
        )
    if not as_json:
        if context["selector_problem"]:
            click.echo(f"ledger: note: {context['selector_problem']}", err=True)
        if context["state"] == RowState.DONE:
            click.echo(
                f"ledger: note: row {context['row']} is already {context['state_token']}", err=True
            )


def _parse_at(text: str):
    from datetime import datetime

    from ledger.errors import BadInput
    from ledger.running.evidence import TIMESTAMP_FORMAT

    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise BadInput(f"--at {text!r} is not YYYY-MM-DDTHHMMSSZ") from None
