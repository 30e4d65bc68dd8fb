"""A workspace: its root, settings, initiatives, plans and ledger."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from ledger.config import Config, load_config
from ledger.documents.plan import Plan, Row, assign_refs, parse_plan
from ledger.errors import BadInput, SelectorRule
from ledger.markdown.text import SourceText, normalise_hyphens

INITIATIVE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@lru_cache(maxsize=64)
def _real_root(root: str) -> Path:
    return Path(root).resolve()


def _lexically_inside_without_links(root: Path, path: Path) -> bool:
    """The cheap common case: `path` is spelled under `root` (no `..`) and no component below
    `root` is a symlink, so it cannot leave it (one lstat per component, none for the root's
    own ancestors; an audit asks this for every plan file)."""
    text, prefix = str(path), str(root).rstrip("/") + "/"
    if not text.startswith(prefix):
        return False
    parts = text[len(prefix) :].split("/")
    if ".." in parts:
        return False
    current = str(root).rstrip("/")
    for part in parts:
        if not part or part == ".":
            continue
        current += "/" + part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return False
        except OSError:
            return True  # the rest does not exist yet: nothing below can be a link
    return True


def confine(
    root: Path, path: Path, what: str, setting: str | None = None, source: Path | None = None
) -> Path:
    """`path` when it resolves (symlinks followed) inside `root`; otherwise one BadInput line.

    `setting` (`ledger = "../x.md"`) and `source` (the configuration file) name where an
    escaping path was configured. Every path ledger reads plan text from or writes to
    passes here: configured paths, initiative folders, plan files, write targets.
    """
    if _lexically_inside_without_links(root, path):
        return path
    real_root = _real_root(str(root))
    resolved = path.resolve()
    if resolved == real_root or real_root in resolved.parents:
        return path
    if setting is not None:
        raise BadInput(
            f"[tool.ledger] {setting}: {what} resolves outside the workspace ({resolved}) [rule: {SelectorRule.PATH_CONFINEMENT}]",
            source,
        )
    try:
        where: Path | str = path.relative_to(root).as_posix()
    except ValueError:
        where = path
    raise BadInput(
        f"{what} resolves outside the workspace ({resolved}) [rule: {SelectorRule.PATH_CONFINEMENT}]",
        where,
    )


def find_root(start: Path) -> Path:
    """The nearest ancestor of `start` (itself included) holding `plans/`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "plans").is_dir():
            return folder
    raise BadInput(f"no workspace found: no folder holding plans/ at or above {start} (use --root)")


@dataclass
class Workspace:
    root: Path
    config: Config
    _plans: dict[str, list[Plan]] = field(default_factory=dict, repr=False)
    _ledger: list = field(default_factory=list, repr=False)  # [LedgerDoc | None] once read

    @classmethod
    def open(cls, root: Path | None = None, cwd: Path | None = None) -> Workspace:
        if root is not None:
            root = root.resolve()
            if not root.is_dir():
                raise BadInput(f"--root {root} is not a folder")
        else:
            root = find_root(cwd or Path.cwd())
        ws = cls(root=root, config=load_config(root))
        ws.refuse_non_regular_files()
        return ws

    def refuse_non_regular_files(self) -> None:
        """A FIFO or device as the ledger, findings or a plan is refused here, before any
        command takes the lock or reads it (reading one hangs; issue 11)."""
        import os

        from ledger.markdown.text import refuse_non_regular

        candidates = []
        for key in ("ledger", "findings"):
            value = getattr(self.config, key, None)
            if isinstance(value, str):
                candidates.append(self.root / value)
        for plan_root in self.config.plan_roots:
            try:
                with os.scandir(self.root / plan_root) as initiatives:
                    folders = [entry.path for entry in initiatives if entry.is_dir()]
            except OSError:
                continue
            for folder in folders:
                try:
                    with os.scandir(folder) as entries:
                        candidates.extend(
                            Path(entry.path) for entry in entries if entry.name.endswith(".md")
                        )
                except OSError:
                    continue
        for path in candidates:
            try:
                mode = os.stat(path).st_mode
            except OSError:
                continue
            refuse_non_regular(Path(self.relative(path)), mode)

    # ------------------------------------------------------------ paths

    def _configured(self, key: str, what: str) -> Path:
        value = getattr(self.config, key)
        return confine(
            self.root,
            self.root / value,
            what,
            f"{key} = {value!r}" if self.config.source else None,
            self.config.source,
        )

    @cached_property
    def ledger_path(self) -> Path:
        return self._configured("ledger", "the ledger")

    def ledger_archive_paths(self) -> list[Path]:
        """The archive files `[tool.ledger] ledger_archives` names (globs), the ledger itself
        excluded; each must resolve inside the workspace."""
        found: list[Path] = []
        for pattern in self.config.ledger_archives:
            setting = (
                f"ledger_archives = {list(self.config.ledger_archives)!r}"
                if self.config.source
                else None
            )
            if Path(pattern).is_absolute():
                raise BadInput(
                    f"[tool.ledger] {setting or 'ledger_archives'}: {pattern!r} is not relative to the workspace [rule: {SelectorRule.PATH_CONFINEMENT}]",
                    self.config.source,
                )
            for path in sorted(self.root.glob(pattern)):
                if path.is_file() and path != self.ledger_path and path not in found:
                    found.append(
                        confine(
                            self.root,
                            path,
                            f"ledger archive {self.relative(path)}",
                            setting,
                            self.config.source,
                        )
                    )
        return found

    @cached_property
    def findings_path(self) -> Path:
        return self._configured("findings", "the findings file")

    @cached_property
    def templates_dir(self) -> Path:
        return self._configured("templates", "the templates folder")

    def write_target(self, path: Path) -> Path:
        """The file to replace when writing `path`: a symlink is written through to its target,
        and only when that target is inside the workspace (refused otherwise)."""
        return confine(self.root, path, f"{self.relative(path)} (a file ledger writes)").resolve()

    def relative(self, path: Path) -> str:
        text, prefix = str(path), str(self.root).rstrip("/") + "/"
        # String slicing, no file-system calls: an audit asks this thousands of times.
        if text.startswith(prefix) and "/../" not in text[len(prefix) - 1 :] + "/":
            return text[len(prefix) :]
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def initiative_dir(self, initiative: str) -> Path:
        self.check_initiative_id(initiative)
        for plan_root in self.config.plan_roots:
            folder = self.root / plan_root / initiative
            if folder.is_dir():
                self.plan_root_dir(plan_root)
                return confine(self.root, folder, f"initiative folder {plan_root}/{initiative}")
        raise BadInput(
            f"unknown initiative {initiative!r}: no folder {self.config.plan_roots[0]}/{initiative}/",
            self.root,
        )

    def plan_root_dir(self, plan_root: str) -> Path:
        """`plan_root` (a configured folder) when it resolves inside the workspace."""
        setting = f"plan_roots = {list(self.config.plan_roots)!r}" if self.config.source else None
        return confine(
            self.root, self.root / plan_root, f"plan root {plan_root}", setting, self.config.source
        )

    def report_root(self, initiative: str) -> Path:
        """Where the initiative's evidence goes: `report_root` from the settings, else
        `<initiative folder>/reports` (`plans/examples/X/reports` for a plan outside
        `plans/active/`)."""
        self.check_initiative_id(initiative)
        value = self.config.report_root
        if value is not None:
            setting = f"report_root = {value!r}" if self.config.source else None
            return confine(
                self.root,
                self.root / value.format(initiative=initiative),
                "the report folder",
                setting,
                self.config.source,
            )
        for plan_root in self.config.plan_roots:
            folder = self.root / plan_root / initiative
            if folder.is_dir():
                return confine(self.root, folder / "reports", "the report folder")
        # An initiative with no plan folder yet (a ledger item only): where one would be made.
        return confine(
            self.root,
            self.root / self.config.plan_roots[0] / initiative / "reports",
            "the report folder",
        )

    @staticmethod
    def check_initiative_id(initiative: str) -> None:
        if not INITIATIVE_ID.match(initiative) or ".." in initiative:
            raise BadInput(f"invalid initiative id {initiative!r}")

    # ------------------------------------------------------------ plans

    def initiatives(self) -> list[str]:
        found: list[str] = []
        for plan_root in self.config.plan_roots:
            folder = self.root / plan_root
            if not folder.is_dir():
                continue
            self.plan_root_dir(plan_root)
            for child in sorted(folder.iterdir()):
                if (
                    child.is_dir()
                    and INITIATIVE_ID.match(child.name)
                    and child.name not in found
                    and any(child.glob("*.md"))
                ):
                    found.append(child.name)
        return found

    def known_initiatives(self) -> set[str]:
        """Initiative ids a directive's Focus may name: plan folders and ledger items."""
        names = set(self.initiatives())
        if self.ledger_path.exists():
            from ledger.documents.fix_plan import parse_ledger

            names |= set(parse_ledger(SourceText.read(self.ledger_path)).items)
        return names

    def plan_files(self, initiative: str) -> list[Path]:
        folder = self.initiative_dir(initiative)
        files = sorted(
            confine(self.root, path, f"plan file {self.relative(path)}")
            for path in folder.glob("*.md")
        )
        # implementation.md is the plan of record; sub-plans follow it.
        files.sort(key=lambda p: (p.name != "implementation.md", p.name))
        return files

    def plans(self, initiative: str) -> list[Plan]:
        """The initiative's plan files, then (when it has any) the rows only the ledger's
        checklist holds (`- [ ] <initiative>.F1: …` under `## TODOs`), as one more plan."""
        if initiative not in self._plans:
            plans = [
                parse_plan(SourceText.read(path), self.config.states)
                for path in self.plan_files(initiative)
            ]
            todo = self._ledger_rows(initiative, plans)
            plans = plans + ([todo] if todo else [])
            assign_refs([row for plan in plans for row in plan.rows])
            self._plans[initiative] = plans
        return self._plans[initiative]

    def read_ledger(self):
        """The parsed ledger (a LedgerDoc), read once per workspace and shared by every reader
        (a 20,000-attempt ledger takes a good part of a second); None when there is no
        ledger file, BadInput when it cannot be read."""
        if not self._ledger:
            from ledger.documents.fix_plan import parse_ledger

            try:
                doc = (
                    parse_ledger(SourceText.read(self.ledger_path))
                    if self.ledger_path.is_file()
                    else None
                )
            except BadInput as exc:
                self._ledger.append(exc)
                raise
            self._ledger.append(doc)
        if isinstance(self._ledger[0], BadInput):
            raise self._ledger[0]
        return self._ledger[0]

    def ledger_doc(self):
        """`read_ledger`, or None when the ledger cannot be read (the commands that edit it
        or audit it report why)."""
        try:
            return self.read_ledger()
        except BadInput:
            return None

    def _ledger_rows(self, initiative: str, plans: list[Plan]) -> Plan | None:
        from ledger.documents.fix_plan import checklist_rows

        doc = self.ledger_doc()
        if doc is None or not doc.checklist:
            return None
        own = frozenset(row.id for plan in plans for row in plan.rows)
        rows = checklist_rows(
            doc, self.config.states, initiative, exclude=own, where=self.relative(self.ledger_path)
        )
        if not rows:
            return None
        phases = list({id(row.phase): row.phase for row in rows}.values())
        title = next((plan.title for plan in plans if plan.title), None)
        return Plan(doc.source, phases=phases, rows=rows, from_ledger=True, fixed_title=title)

    def rows(self, initiative: str) -> list[Row]:
        return [row for plan in self.plans(initiative) for row in plan.rows]

    def find_row(self, initiative: str, reference: str) -> Row:
        """The row `reference` names: its id (`D1`), or the reference `status` lists for it
        when the id is not unique: `C.C1` (phase C, row C1), `phase_1_checklist.md:0.A` (file
        and id; the `.md` may be left off), `implementation.md#L132` (file and line)."""
        rows = self.rows(initiative)
        reference = normalise_hyphens(reference.strip())
        matches = _rows_named(rows, reference)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            places = ", ".join(f"{r.ref} ({self.relative(r.path)}:{r.line})" for r in matches)
            twins = any(r.has_id and r.ref.endswith(f"#L{r.line}") for r in matches)
            hint = " (or give one of the twins a new id in the plan)" if twins else ""
            raise BadInput(
                f"row {reference} of {initiative} is ambiguous: name one as {places}{hint}"
            )
        plan_path = (
            self.relative(self.plan_files(initiative)[0])
            if self.plan_files(initiative)
            else initiative
        )
        known = ", ".join(r.ref for r in rows[:30]) + (", …" if len(rows) > 30 else "") or "none"
        raise BadInput(f"unknown row {reference!r} in {initiative} (rows: {known})", plan_path)

    def reload_path(self, path: Path) -> None:
        """Forget cached plans after `path` was rewritten."""
        if path == self.ledger_path:
            self._ledger.clear()
        for initiative, plans in list(self._plans.items()):
            if any(plan.path == path for plan in plans):
                del self._plans[initiative]


def _rows_named(rows: list[Row], reference: str) -> list[Row]:
    by_id = [row for row in rows if row.has_id and row.id == reference]
    if by_id:
        return by_id
    by_ref = [
        row for row in rows if row.ref == reference or (not row.has_id and row.id == reference)
    ]
    if by_ref:
        return by_ref
    file_part, sep, rest = reference.rpartition("#L")
    if sep and rest.isdigit():
        return [row for row in rows if _names_file(file_part, row) and row.line == int(rest)]
    file_part, sep, row_part = reference.rpartition(":")
    if sep:
        in_file = [row for row in rows if _names_file(file_part, row)]
        return [row for row in in_file if row.has_id and row.id == row_part] or [
            row for row in in_file if row.has_id and row.qualified_id == row_part
        ]
    if "." in reference:
        phase_key, _, row_id = reference.partition(".")
        return [
            r
            for r in rows
            if r.has_id and r.id == row_id and r.phase is not None and r.phase.key == phase_key
        ]
    return []


def _names_file(name: str, row: Row) -> bool:
    """`phase_1_checklist.md`, `phase_1_checklist`, or a longer path ending in the file."""
    if not name:
        return False
    path = row.path.as_posix()
    return (
        name in (row.path.name, row.path.stem)
        or path.endswith("/" + name)
        or path.endswith("/" + name + ".md")
    )
