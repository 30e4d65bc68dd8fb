from __future__ import annotations

import sys

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("audit")
@click.argument("initiative", required=False)
@click.option(
    "--strict",
    is_flag=True,
    help="Also fail on rows evidenced only by hand-made files (no intact manifest), and on verified rows gone stale (their tests or library code changed since the run's commit).",
)
@click.option(
    "--require-attested",
    is_flag=True,
    help="Fail every done row that is not verified and attested by a trusted key.",
)
@click.option("--all", "show_all", is_flag=True, help="List every row, open ones included.")
@click.option(
    "--since",
    "since",
    metavar="REV",
    help="Only rows and attempts changed since commit REV (plan lines, attempts added or edited, runs recorded): the gate a loop runs after an agent's turn.",
)
@click.option(
    "--explain", is_flag=True, help="Print what each audit class proves, exactly, and exit."
)
@json_option
@root_option
@reports_errors
def audit(initiative, strict, require_attested, show_all, since, explain, as_json, root):
    """Which done rows are proven: verified, evidenced, claimed, inconsistent, contradicted, tampered.

    \b
    Exit codes: 0 nothing tampered, claimed, inconsistent, contradicted or not
    reproduced (with --strict: nor evidenced; with --require-attested: every done
    row verified and attested); 1 otherwise; 2 bad input.
    """
    from ledger.reading.audit.text import explain_lines

    if explain:
        if as_json:
            from ledger.reading.audit.model import EXPLAIN

            print_json(EXPLAIN)
        else:
            for line in explain_lines():
                click.echo(line)
        return
    from ledger.reading.audit import audit_workspace
    from ledger.reading.audit.text import audit_lines
    from ledger.reading.gcpause import cyclic_gc_paused

    ws = open_workspace(root)
    # Paused until the report is printed, not only while it is built: the first collection
    # after it would scan every object the audit made (60 ms on a large workspace), to free
    # nothing a command about to exit needs.
    with cyclic_gc_paused():
        report = audit_workspace(ws, initiative, since=since)
        if as_json:
            print_json(report.to_json(strict, require_attested))
        else:
            lines = audit_lines(report, strict, show_all, require_attested=require_attested)
            if lines:  # one write: a large workspace's report runs to thousands of lines
                click.echo("\n".join(lines))
    sys.exit(report.exit_code(strict, require_attested))
