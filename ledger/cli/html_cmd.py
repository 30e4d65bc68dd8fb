from __future__ import annotations

from pathlib import Path

import click

from ledger.cli.common import json_option, open_workspace, print_json, reports_errors, root_option


@click.command("html")
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: <root>/site/).",
)
@click.option("--serve", is_flag=True, help="Then serve it on 127.0.0.1 until Ctrl-C.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default="a free port",
    help="Port for --serve.",
)
@json_option
@root_option
@reports_errors
def html(out_dir, serve, port, as_json, root):
    """Write a static dashboard site of the workspace (no server or network needed).

    index.html shows every initiative's progress; initiative/<ID>.html its
    phases, rows (state, audit class with its attestation and verify results,
    selector, newest evidence), attempts timeline and a runtime chart per row.
    Links to evidence are relative.
    """
    from ledger.html.site import build_site

    ws = open_workspace(root)
    result = build_site(ws, out_dir)
    if as_json:
        print_json(result)
    else:
        click.echo(
            f"wrote {len(result['pages'])} pages ({result['initiatives']} initiatives, {result['rows']} rows, "
            f"{result['runs']} runs) to {result['out_dir']}/"
        )
        click.echo(f"open {Path(result['out_dir']).as_uri()}/index.html")
    if serve:
        from ledger.html.serve import serve_site

        serve_site(
            ws.root, Path(result["out_dir"]), port, lambda line: click.echo(line, err=as_json)
        )
