from __future__ import annotations

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


def _bar(counts: dict, width: int = 20) -> str:
    total = counts["rows"] or 1
    done = round(width * counts["done"] / total)
    partial = round(width * counts["partial"] / total)
    return "#" * done + "~" * partial + "." * max(0, width - done - partial)


@click.command("status")
@click.argument("initiative", required=False)
@json_option
@root_option
@reports_errors
def status(initiative, as_json, root):
    """Initiatives, phases, rows and their states (all initiatives, or one in full)."""
    from ledger.reading.status import workspace_status

    ws = open_workspace(root)
    data = workspace_status(ws, initiative)
    if as_json:
        print_json(data)
        return
    if not data["initiatives"]:
        click.echo(f"no initiatives under {', '.join(ws.config.plan_roots)} in {ws.root}")
    for item in data["initiatives"]:
        c = item["counts"]
        click.echo(
            f"{item['initiative']}  [{_bar(c)}]  {c['done']}/{c['rows']} done, {c['partial']} partial, {c['open']} open"
        )
        for phase in item["phases"]:
            pc = phase["counts"]
            click.echo(f"  {phase['title'][:60]:<60}  {pc['done']}/{pc['rows']} done")
            if initiative:
                width = max([8] + [len(row["ref"]) for row in phase["rows"]])
                for row in phase["rows"]:
                    click.echo(
                        f"    {row['ref']:<{width}} {row['token'] or '?':<4} {row['description'][:70]}"
                    )
        if initiative:
            for diagnostic in item["diagnostics"]:
                click.echo(f"  note: {diagnostic}")
