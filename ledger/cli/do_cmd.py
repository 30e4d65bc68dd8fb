from __future__ import annotations

import sys

import click

from ledger.cli.common import (
    json_option,
    lock_timeout_option,
    open_workspace,
    print_json,
    reports_errors,
    root_option,
)
from ledger.running.outcome import Expectation


@click.command("do")
@click.argument("initiative", required=False)
@click.argument("row", required=False)
@click.option("--selector", help="Run this pytest selector instead of the row's own.")
@click.option(
    "--slug", help="Report folder name under reports/<TS>/ (default: from the phase heading)."
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0),
    help="Kill the whole test process group after N seconds (exit 124); default [tool.ledger] timeout, else 110 s (under Claude Code's 2-minute shell-tool default); 0: none.",
)
@lock_timeout_option
@click.option(
    "--attempt",
    "attempt_number",
    type=click.IntRange(min=1),
    help="Record the attempt under this pre-assigned number; refused before running (exit 2) if the initiative already has it.",
)
@click.option("--no-flip", is_flag=True, help="Leave the row's state and guidance untouched.")
@click.option(
    "--flip-on-error",
    is_flag=True,
    help="Mark the row partial on collection_error, usage_error or error too (default: left alone).",
)
@click.option(
    "--expect",
    type=click.Choice([e.value for e in Expectation]),
    default=Expectation.PASS.value,
    show_default=True,
    help="fail: a TDD red run; exit 0 when the tests fail (outcome red, row left open), 9 when they pass.",
)
@click.option(
    "--report-dir",
    help="Write the evidence under this folder: <report root>/<TS>/ or <report root>/<TS>/<slug>/ (a supervisor's Artifacts:).",
)
@click.option(
    "--at",
    "at",
    metavar="TS",
    help="Write the evidence under <report root>/TS/ (e.g. 2026-01-23T020500Z), not a new timestamp folder.",
)
@click.option(
    "--from-input",
    "from_input",
    is_flag=False,
    flag_value="input.md",
    default=None,
    metavar="[INPUT.md]",
    help="Take initiative, row, selector and evidence folder from a supervisor directive (default input.md); arguments given win.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan of action; write nothing.")
@click.option(
    "--commit",
    is_flag=True,
    help="Commit the run's evidence files (its manifest and the files it hashes, force-added even where .gitignore ignores them), the plan and the ledger (only those) with git; refused up front on a detached or conflicted tree.",
)
@json_option
@root_option
@reports_errors
def do(
    initiative,
    row,
    selector,
    slug,
    timeout_s,
    lock_timeout_s,
    attempt_number,
    no_flip,
    flip_on_error,
    expect,
    report_dir,
    at,
    from_input,
    dry_run,
    commit,
    as_json,
    root,
):
    """Run ROW's pytest selector, write evidence, flip the row, append an attempt.

    \b
    Exit codes: 0 passed (also collected, red confirmed), 1 tests failed,
    2 bad input, 3 collected 0 tests, 4 workspace locked, 5 collection error,
    6 pytest usage error, 7 all skipped, 8 run error (no report, internal
    error), 9 passed under --expect fail, 124 timeout, 130 interrupted.
    """
    from ledger.errors import BadInput

    if (initiative is None or row is None) and not (from_input and row is None):
        raise BadInput("pass INITIATIVE and ROW (or --from-input, whose Focus names them)")
    ws = open_workspace(root)
    warm = None
    if not dry_run:
        from ledger.running.warm_start import prestart

        # Before the run's own modules are imported: the interpreter starts meanwhile.
        warm = prestart(ws)
    try:
        _do(
            ws,
            warm,
            initiative,
            row,
            selector,
            slug,
            timeout_s,
            lock_timeout_s,
            attempt_number,
            no_flip,
            flip_on_error,
            expect,
            report_dir,
            at,
            from_input,
            dry_run,
            commit,
            as_json,
        )
    finally:
        if warm is not None:
            warm.abandon()  # unless the run used it: nothing of the plan's runs, it is gone


def _do(
    ws,
    warm,
    initiative,
    row,
    selector,
    slug,
    timeout_s,
    lock_timeout_s,
    attempt_number,
    no_flip,
    flip_on_error,
    expect,
    report_dir,
    at,
    from_input,
    dry_run,
    commit,
    as_json,
):
    from ledger.running.do import DoOptions, describe_run, effective_timeout, prepare, run_do

    options = DoOptions(
        initiative,
        row,
        selector,
        slug,
        effective_timeout(ws, timeout_s),
        lock_timeout_s,
        not no_flip,
        dry_run,
        commit,
        flip_on_error=flip_on_error,
        expect=Expectation(expect),
        attempt_number=attempt_number,
        report_dir=report_dir,
        at=at,
        from_input=from_input,
        timeout_is_default=timeout_s is None and ws.config.timeout is None,
        warm=warm,
    )
    if dry_run:
        prepared = prepare(ws, options)
        lines = describe_run(ws, prepared, options)
        if as_json:
            print_json({"dry_run": True, "plan": lines})
        else:
            click.echo("dry run, nothing written:")
            for line in lines:
                click.echo(f"  {line}")
        return
    result = run_do(ws, options, lambda text: click.echo(text, err=as_json))
    if as_json:
        print_json(result.to_json())
    else:
        click.echo(
            f"[ledger] outcome: {result.outcome}" + (f" ({result.reason})" if result.reason else "")
        )
        click.echo(f"[ledger] evidence: {result.report_dir}")
        if options.flip and result.state_changed:
            click.echo(f"[ledger] row {result.row}: {result.state_before} -> {result.state_after}")
        elif options.flip:
            click.echo(
                f"[ledger] row {result.row}: left {result.state_before} ({result.outcome} does not change the row)"
            )
        click.echo(f"[ledger] attempt #{result.attempt} appended to {ws.relative(ws.ledger_path)}")
        if result.commit:
            click.echo(
                f"[ledger] committed {result.commit['sha'][:12]} on {result.commit['branch']}: {result.commit['message']}"
            )
            if result.commit.get("force_added"):
                click.echo(
                    f"[ledger] force-added {len(result.commit['force_added'])} file(s) .gitignore ignores: {', '.join(result.commit['force_added'])}"
                )
    for notice in result.notices:
        click.echo(f"[ledger] {notice}", err=True)
    sys.exit(result.exit_code)
