from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("check-input")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--no-collect",
    is_flag=True,
    help="Check selectors for safety only; do not run pytest --collect-only.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds per collection.",
)
@json_option
@root_option
@reports_errors
def check_input(path, no_collect, timeout_s, as_json, root):
    """Validate a supervisor directive (default: input.md at the workspace root).

    Checks the header fields (Summary, Mode, Focus, Branch, Mapped tests,
    Artifacts), that Focus names an existing initiative (and row), that every
    mapped selector is safe and collects at least one test (a test file not
    in the workspace, or one whose imports this environment lacks, is a
    warning: it cannot be collected here), that Artifacts
    lies under the initiative's report root and that cited findings exist.

    \b
    Exit codes: 0 ok (warnings allowed), 1 the directive has problems,
    2 bad input (file missing or unreadable) or a mapped selector the
    selector policy refuses (one `ledger: error:` line each on stderr
    naming its rule and file:line; it is never collected).
    """
    from ledger.directives.check import check_directive

    ws = open_workspace(root)
    target = path if path is not None else ws.root / "input.md"
    report = check_directive(ws, target, collect_tests=not no_collect, collect_timeout_s=timeout_s)
    if as_json:
        print_json(report.to_json())
    else:
        for problem in sorted(report.problems, key=lambda p: p.line):
            click.echo(f"{report.path}:{problem.line}: {problem.severity}: {problem.message}")
        for entry in report.selectors:
            if entry["collected"] is not None:
                click.echo(f"selector {entry['selector']}: {entry['collected']} tests")
            elif entry.get("not_collectable"):
                click.echo(
                    f"selector {entry['selector']}: not collectable here ({entry['not_collectable']})"
                )
        verdict = "ok" if report.ok else "FAILED"
        click.echo(
            f"{report.path}: {verdict} ({len(report.errors)} errors, {len(report.problems) - len(report.errors)} warnings)"
        )
    for problem in report.refused:
        click.echo(f"ledger: error: {report.path}:{problem.line}: {problem.message}", err=True)
    sys.exit(2 if report.refused else 0 if report.ok else 1)
