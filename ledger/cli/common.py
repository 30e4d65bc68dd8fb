"""Options and error handling shared by every command."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from ledger.errors import LedgerError


def root_option(func):
    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Workspace root (default: nearest ancestor holding plans/).",
    )(func)


def lock_timeout_option(func):
    return click.option(
        "--lock-timeout",
        "lock_timeout_s",
        type=float,
        default=10.0,
        show_default=True,
        help="Seconds to wait for the workspace lock (then exit 4).",
    )(func)


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")(
        func
    )


def print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def reports_errors(func):
    """Turn LedgerError into one line on stderr and its exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LedgerError as exc:
            if kwargs.get("as_json"):
                print_json({"error": str(exc), "exit_code": exc.exit_code})
            click.echo(f"ledger: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # Ctrl-C outside a test run (a run records its own interruption and exits 130 itself).
            click.echo("ledger: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (`ledger audit | head`): stop quietly, as a shell tool does.
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            sys.exit(141)
        except OSError as exc:
            if kwargs.get("as_json"):
                print_json({"error": str(exc), "exit_code": 2})
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"ledger: error: {where}{exc.strerror or exc}", err=True)
            sys.exit(2)

    return wrapper


# The code every command's `reports_errors` wrapper runs: ledger.entry raises KeyboardInterrupt
# for a signal only below a frame running it (elsewhere it stops the process at once).
COMMAND_CODE = reports_errors(lambda: None).__code__


def open_workspace(root: Path | None):
    from ledger.workspace import Workspace

    return Workspace.open(root)
