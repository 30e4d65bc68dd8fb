"""Per-machine attestation keys: an HMAC over a run's manifest, made with a key kept outside the workspace.

What an attestation proves, and what it does not: the manifest was written (or last
rewritten) by a process that could read this key file, and not a byte of it changed
since. It proves nothing against anyone who can read the key — an agent running as the
same user on the same machine can read `~/.config/ledger/key` unless the loop keeps it
away (another user, a container that does not mount it, a CI secret). It is a signature
of *where* a manifest was written, not of what the tests did; `ledger verify` is the proof
of that.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import BadInput

KEY_ENV = "LEDGER_KEY_PATH"
TRUSTED_ENV = "LEDGER_TRUSTED_KEYS"  # more key files (other machines' keys) an auditor accepts
_KEY_BYTES = 32


def default_key_path() -> Path:
    explicit = os.environ.get(KEY_ENV)
    if explicit:
        return Path(explicit).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(
        os.path.expanduser("~"), ".config"
    )
    return Path(config_home) / "ledger" / "key"


@dataclass(frozen=True)
class Key:
    secret: bytes
    path: Path

    @property
    def key_id(self) -> str:
        """Public name of the key: a hash of it, so the id reveals nothing of the secret."""
        return hashlib.sha256(b"ledger-key-id\0" + self.secret).hexdigest()[:16]

    def sign(self, payload: bytes) -> str:
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()


def _read_key(path: Path) -> Key | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError, UnicodeDecodeError):
        return None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        return None
    return Key(secret, path) if len(secret) >= 16 else None


def load_key(path: Path | None = None) -> Key | None:
    """This machine's key, or None when there is none (runs are then recorded unattested)."""
    return _read_key(path or default_key_path())


def trusted_keys() -> dict[str, Key]:
    """Every key an audit on this machine can check attestations with, by key id."""
    keys = {}
    own = load_key()
    if own is not None:
        keys[own.key_id] = own
    for entry in filter(None, os.environ.get(TRUSTED_ENV, "").split(os.pathsep)):
        key = _read_key(Path(entry).expanduser())
        if key is not None:
            keys[key.key_id] = key
    return keys


def init_key(
    path: Path | None = None, workspace_root: Path | None = None, force: bool = False
) -> tuple[Key, bool]:
    """Create the key file (mode 0600, its folder 0700); an existing key is kept unless `force`.

    Returns the key and whether it was created. Refuses a path inside the workspace: a key
    committed with the evidence it signs would let anyone with the repository sign.
    """
    target = (path or default_key_path()).expanduser()
    if workspace_root is not None:
        root = workspace_root.resolve()
        resolved = target.resolve()
        if resolved == root or root in resolved.parents:
            raise BadInput(
                f"refusing to put the key inside the workspace ({target}); keep it outside, e.g. ~/.config/ledger/key"
            )
    existing = _read_key(target)
    if existing is not None and not force:
        return existing, False
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_bytes(_KEY_BYTES)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    # O_EXCL + 0600 from the start: the secret is never readable by others, not even briefly.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secret.hex() + "\n")
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return Key(secret, target), True
