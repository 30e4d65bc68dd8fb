from __future__ import annotations

import sys

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("audit")
@click.argument("initiative", required=False)
@click.option("--strict", is_flag=True, help="Also fail on rows evidenced only by hand-made files (no intact manifest).")
@click.option("--all", "show_all", is_flag=True, help="List every row, open ones included.")
@json_option
@root_option
@reports_errors
def audit(initiative, strict, show_all, as_json, root):
    """Which done rows are proven: verified, evidenced, claimed, contradicted, tampered.

    \b
    Exit codes: 0 nothing tampered, claimed or contradicted (with --strict: nor
    evidenced); 1 otherwise; 2 bad input (unknown initiative, no workspace).
    """
    from ledger.audit import audit_workspace
    from ledger.audit.text import audit_lines

    ws = open_workspace(root)
    report = audit_workspace(ws, initiative)
    if as_json:
        print_json(report.to_json(strict))
    else:
        for line in audit_lines(report, strict, show_all):
            click.echo(line)
    sys.exit(report.exit_code(strict))
