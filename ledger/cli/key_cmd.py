from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ledger.cli.common import json_option, print_json, reports_errors


@click.group("key")
def key() -> None:
    """This machine's attestation key (signs the manifests of runs recorded here)."""


@key.command("init")
@click.option(
    "--path",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Key file (default: $LEDGER_KEY_PATH, else ~/.config/ledger/key).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing key (runs it attested stop being checkable here).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Workspace the key must stay out of (default: the current folder).",
)
@json_option
@reports_errors
def init(path, force, root, as_json):
    """Create the key (mode 0600, outside the workspace); an existing one is kept.

    \b
    Runs recorded while it exists carry an HMAC over their manifest, and `ledger audit`
    says "verified, attested by <key id>". Keep the key where the agent cannot read it:
    an attestation proves only that its writer could read the key.
    """
    from ledger.running.attest import init_key

    made, created = init_key(path, root or Path.cwd(), force)
    if as_json:
        print_json({"key_id": made.key_id, "path": str(made.path), "created": created})
    else:
        click.echo(
            f"{'created' if created else 'already present'}  {made.path}  key id {made.key_id}"
        )


@key.command("show")
@json_option
@reports_errors
def show(as_json):
    """The key id and path of this machine's key, and the other keys this machine trusts."""
    from ledger.running.attest import default_key_path, load_key, trusted_keys

    own = load_key()
    data: dict[str, Any] = {
        "path": str(default_key_path()),
        "key_id": own.key_id if own else None,
        "trusted": sorted(k for k in trusted_keys() if not own or k != own.key_id),
    }
    if as_json:
        print_json(data)
    else:
        click.echo(
            f"{data['path']}: key id {data['key_id']}"
            if own
            else f"{data['path']}: no key (runs are recorded unattested; `ledger key init`)"
        )
        for key_id in data["trusted"]:
            click.echo(f"trusted: {key_id}")
