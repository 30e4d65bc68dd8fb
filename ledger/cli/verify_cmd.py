from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("verify")
@click.argument("initiative", required=False)
@click.argument("row", required=False)
@click.option("--all", "all_initiatives", is_flag=True, help="Every initiative's done rows.")
@click.option(
    "--at-head", is_flag=True, help="Re-run at HEAD instead of each run's recorded commit."
)
@click.option("--both", is_flag=True, help="Re-run at the recorded commit and at HEAD.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Re-runs at once, each in its own worktree.",
)
@click.option(
    "--shard",
    default=None,
    metavar="I/N",
    help="Take every N-th row from the I-th (sorted: the same split on every machine).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also copy what this run recorded, and a shard record, to this folder (for --collect-shards).",
)
@click.option(
    "--collect-shards",
    "collect",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Bring the shards' results under this folder into the workspace and merge them (runs nothing).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=None,
    help="Seconds per re-run before its process group is killed.",
)
@json_option
@root_option
@reports_errors
def verify(
    initiative,
    row,
    all_initiatives,
    at_head,
    both,
    jobs,
    shard,
    out,
    collect,
    timeout_s,
    as_json,
    root,
):
    """Re-run the run that proves each done row, in a clean git worktree at its commit.

    \b
    Compares outcome and counts with the run it checks and records a report folder
    citing it; `ledger audit` then shows "reproduced" / "not reproduced".
    Exit codes: 0 every re-run reproduced (and, collecting, every shard present);
    1 otherwise; 2 bad input.
    """
    from ledger.errors import BadInput
    from ledger.running.verify import HEAD, RECORDED, collect_shards, parse_shard, run_verify

    ws = open_workspace(root)
    if collect is not None:
        merged = collect_shards(ws, collect)
        if as_json:
            print_json(merged.to_json())
        else:
            for line in _collected_lines(merged):
                click.echo(line)
        sys.exit(merged.exit_code)
    if not initiative and not all_initiatives:
        raise BadInput("name an initiative (and optionally a row), or pass --all")
    if initiative and all_initiatives:
        raise BadInput("--all takes no initiative")
    places = (RECORDED, HEAD) if both else ((HEAD,) if at_head else (RECORDED,))
    echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    summary = run_verify(
        ws,
        initiative,
        row,
        places,
        jobs,
        parse_shard(shard) if shard else None,
        out,
        timeout_s,
        echo,
    )
    if as_json:
        print_json(summary.to_json())
    else:
        for line in _summary_lines(summary):
            click.echo(line)
    sys.exit(summary.exit_code)


def _summary_lines(summary) -> list[str]:
    lines = []
    for result in summary.results:
        word = "reproduced" if result.reproduced else "NOT reproduced"
        where = "HEAD" if result.at == "head" else "recorded commit"
        lines.append(
            f"{word:<15} {result.initiative} {result.row} at {where} {(result.commit or '')[:12]}: {result.why}  [{result.folder or '-'}]"
        )
    for item in summary.skipped:
        lines.append(f"{'skipped':<15} {item['initiative']} {item['row']}: {item['why']}")
    shard = f" (shard {summary.shard})" if summary.shard else ""
    lines.append(
        f"verify{shard}: {sum(r.reproduced for r in summary.results)} reproduced, "
        f"{sum(not r.reproduced for r in summary.results)} not reproduced, {len(summary.skipped)} skipped"
    )
    return lines


def _collected_lines(merged) -> list[str]:
    lines = _summary_lines(merged.summary)
    lines.insert(
        0,
        f"shards: {len(merged.shards_seen)} of {merged.shard_count or '?'} present"
        + (
            f"; missing {', '.join(map(str, merged.missing_shards))}"
            if merged.missing_shards
            else ""
        ),
    )
    lines += [f"copied   {path}" for path in merged.copied]
    lines += [f"rejected {why}" for why in merged.rejected]
    return lines
