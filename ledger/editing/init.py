"""`ledger init`: create what a workspace needs, never overwrite.

Every step checks before it writes, so running init twice changes nothing and
an existing repository keeps its files; only missing pieces are added. `ledger new`
(`ledger.editing.new`) reports in the same ScaffoldResult.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ledger.config import Config, load_config
from ledger.editing.locking import LOCK_NAME
from ledger.editing.tempfiles import GITIGNORE_PATTERN
from ledger.editing.writes import write_bytes_atomic
from ledger.errors import BadInput
from ledger.render import PACKAGE_TEMPLATES, Renderer

MERGE_DRIVER_NAME = "ledger plan/ledger merge driver (concurrent attempts and state flips)"
# Rendered once at init; copying them would only invite stale duplicates.
SCAFFOLD_ONLY = {"fix_plan.md.j2", "findings.md.j2"}


@dataclass
class ScaffoldResult:
    root: Path
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "root": str(self.root),
            "created": self.created,
            "updated": self.updated,
            "kept": self.kept,
            "notes": self.notes,
        }


def init_workspace(root: Path, with_git: bool = False) -> ScaffoldResult:
    root = root.resolve()
    if not root.is_dir():
        raise BadInput(f"{root} is not a folder")
    config = load_config(root)
    from ledger.workspace import Workspace

    ws = Workspace(root=root, config=config)
    # Every configured path must resolve inside the workspace before anything is created.
    ws.ledger_path, ws.findings_path, ws.templates_dir, ws.report_root("X")
    confined_plan_root(ws)
    result = ScaffoldResult(root)
    renderer = Renderer(None)

    plans = root / config.plan_roots[0]
    if plans.is_dir():
        result.kept.append(config.plan_roots[0] + "/")
    else:
        plans.mkdir(parents=True)
        # Git tracks no empty folders; the marker keeps plans/ in a fresh clone.
        (plans / ".gitkeep").write_bytes(b"")
        result.created.append(config.plan_roots[0] + "/")

    _create_file(root, config.ledger, renderer.render("fix_plan.md.j2"), result)
    _create_file(root, config.findings, renderer.render("findings.md.j2"), result)
    for template in sorted(PACKAGE_TEMPLATES.glob("*.md.j2")):
        if template.name not in SCAFFOLD_ONLY:
            _create_file(
                root,
                f"{config.templates}/{template.name}",
                template.read_text(encoding="utf-8"),
                result,
            )

    if with_git:
        setup_git(root, config, result)
    return result


def confined_plan_root(ws) -> Path:
    """The first plan root, refused when it leads outside the workspace."""
    return ws.plan_root_dir(ws.config.plan_roots[0])


def _create_file(root: Path, relative: str, text: str, result: ScaffoldResult) -> None:
    path = root / relative
    if path.exists():
        result.kept.append(relative)
        return
    write_bytes_atomic(path, text.encode("utf-8"))
    result.created.append(relative)


def gitattributes_lines(config: Config) -> list[str]:
    lines = [f"{config.ledger} merge=ledger", "plans/**/*.md merge=ledger"]
    for plan_root in config.plan_roots:
        if not plan_root.startswith("plans/") and plan_root != "plans":
            lines.append(f"{plan_root}/**/*.md merge=ledger")
    return lines


def merge_driver_command() -> str:
    """This interpreter by absolute path: git runs the driver from hooks, IDEs and loop
    scripts whose PATH often lacks the venv (a bare `ledger` failed there with 'not found')."""
    return f"{shlex.quote(sys.executable)} -m ledger merge-driver %O %A %B %P"


def setup_git(root: Path, config: Config, result: ScaffoldResult) -> None:
    """A repository (created if missing) whose merges of ledger files use our driver."""
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except git.InvalidGitRepositoryError:
        repo = git.Repo.init(root)
        result.created.append(".git/")
    except git.NoSuchPathError:
        raise BadInput(f"{root} does not exist") from None
    with repo.config_writer() as writer:
        section = 'merge "ledger"'
        changed = False
        for option, value in (("name", MERGE_DRIVER_NAME), ("driver", merge_driver_command())):
            if not writer.has_option(section, option) or writer.get_value(section, option) != value:
                writer.set_value(section, option, value)
                changed = True
    (result.updated if changed else result.kept).append("git config merge.ledger.driver")
    _ensure_lines(root / ".gitattributes", gitattributes_lines(config), result, root)
    # `ledger html`'s default output: generated, and an untracked site/ would trip a loop's
    # handover guard. (The lock itself lives in the git directory; the line covers old ledgers.)
    _ensure_lines(root / ".gitignore", [LOCK_NAME, "/site/", GITIGNORE_PATTERN], result, root)


def _ensure_lines(path: Path, wanted: list[str], result: ScaffoldResult, root: Path) -> None:
    """Append the lines `path` lacks, leaving everything already there as it is."""
    existing = path.read_bytes().decode("utf-8") if path.exists() else ""
    present = {line.strip() for line in existing.splitlines()}
    missing = [line for line in wanted if line not in present and "/" + line not in present]
    name = path.relative_to(root).as_posix()
    if not missing:
        result.kept.append(name)
        return
    eol = "\r\n" if "\r\n" in existing else "\n"
    prefix = "" if not existing or existing.endswith(("\n", "\r")) else eol
    write_bytes_atomic(path, (existing + prefix + eol.join(missing) + eol).encode("utf-8"))
    (result.updated if existing else result.created).append(name)
