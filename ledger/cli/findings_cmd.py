from __future__ import annotations

import sys

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("findings")
@json_option
@root_option
@reports_errors
def findings(as_json, root):
    """List the findings file and flag plans citing unknown finding IDs.

    \b
    Exit codes: 0 ok, 1 a plan cites a finding the file lacks,
    2 bad input (unreadable file, no workspace).
    """
    from ledger.documents.findings import findings_report

    ws = open_workspace(root)
    report = findings_report(ws)
    if as_json:
        print_json(report)
    else:
        if not report["exists"]:
            click.echo(f"no findings file at {report['file']}")
        for item in report["findings"]:
            cited = f"  (cited {len(item['cited_by'])}x)" if item["cited_by"] else ""
            status = f" [{item['status']}]" if item["status"] else ""
            click.echo(
                f"{item['id']:<14} {report['file']}:{item['line']}{status}  {item['synopsis'][:80]}{cited}"
            )
        for dup in report["duplicates"]:
            click.echo(
                f"note: {report['file']}:{dup['repeated_at']}: {dup['id']} repeats line {dup['line']}"
            )
        for unknown in report["unknown_citations"]:
            click.echo(
                f"{unknown['file']}:{unknown['line']}: cites unknown finding {unknown['id']}"
            )
        click.echo(
            f"{len(report['findings'])} findings, {len(report['unknown_citations'])} unknown citations"
        )
    sys.exit(0 if report["ok"] else 1)
