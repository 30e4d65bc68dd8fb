"""Everything one initiative offers as evidence: citations in rows and attempts, and recorded runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ledger.documents.citations import Resolution, citation_bases, find_citations, resolve
from ledger.documents.fix_plan import Attempt, LedgerDoc
from ledger.documents.plan import Row
from ledger.errors import BadInput
from ledger.reading.audit.integrity import FolderStatus, IntegrityChecker
from ledger.reading.show import mentions_row
from ledger.running.evidence import VERIFY_TOOL, run_folders, timestamp_folders
from ledger.workspace import Workspace

_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass
class AttemptEvidence:
    attempt: Attempt
    resolutions: list[Resolution]

    def names(self, row: Row) -> bool:
        return row.id in self.attempt.rows or mentions_row(self.attempt.text, row)


class InitiativeEvidence:
    def __init__(
        self, ws: Workspace, initiative: str, ledger: LedgerDoc | None, checker: IntegrityChecker
    ):
        self.ws = ws
        self.initiative = initiative
        self.checker = checker
        self.report_root = ws.report_root(initiative)
        try:
            initiative_dir = ws.initiative_dir(initiative)
        except BadInput:
            initiative_dir = None
        self.bases = citation_bases(ws.root, initiative_dir, self.report_root)
        self._resolved: dict = {}
        # Workspace-relative text of the plan files, the ledger and the run folders rows name,
        # remembered: every row asks for its plan's, the ledger's and its runs' again.
        self._relative: dict[Path, str] = {}
        self.attempts = [
            AttemptEvidence(a, self.resolve_text(a.text, a.line))
            for a in (ledger.attempts_for(initiative) if ledger else [])
        ]
        # Attempts whose text contains a row id's last word, filled on first use: a cheap
        # substring test spares the exact (regex) test for the attempts that cannot name the row.
        self._by_word: dict[str, list[AttemptEvidence]] = {}
        self._with_rows = [a for a in self.attempts if a.attempt.rows]
        self._texts = [(a, a.attempt.text) for a in self.attempts]
        self._naming: dict[tuple, list[AttemptEvidence]] = {}
        self.recorded: dict[str, list[Path]] = {}
        # `ledger verify` records, by the run folder (workspace-relative, with a trailing /) they re-ran.
        self.verifications: dict[str, list[Path]] = {}
        # Through the checker, so each manifest is read once for both this map and the integrity check.
        # The temp files a killed ledger left in the `<TS>/` folders come from the same listing
        # (temp_leftovers reports them; a second listing of thousands of folders cost a tenth of the audit).
        self.stamp_leftovers: list[Path] = []
        self.timestamp_folders = timestamp_folders(self.report_root, self.stamp_leftovers)
        for folder in run_folders(self.timestamp_folders, checker.has_manifest):
            manifest = checker.check(folder).manifest or {}
            if manifest.get("tool") == VERIFY_TOOL:
                target = manifest.get("verifies")
                if isinstance(target, str):
                    self.verifications.setdefault(target, []).append(folder)
                continue
            row_id = manifest.get("row")
            if isinstance(row_id, str):
                self.recorded.setdefault(row_id, []).append(folder)

    def relative(self, path: Path) -> str:
        """`ws.relative(path)`, remembered."""
        found = self._relative.get(path)
        if found is None:
            found = self._relative[path] = self.ws.relative(path)
        return found

    @property
    def cross(self):
        if self.checker.cross is None:
            from ledger.reading.audit.crosscheck import CrossChecker

            self.checker.cross = CrossChecker(self.ws.root)
        return self.checker.cross

    def reproduction(self, run_folder: Path) -> list[dict]:
        """The newest intact `ledger verify` result for this run, at its commit and at HEAD."""
        newest: dict[str, dict] = {}
        for folder in self.verifications.get(self.relative(run_folder) + "/", []):
            check = self.checker.check(folder)
            if (
                check.status != FolderStatus.INTACT
                or check.manifest is None
                or not isinstance(check.manifest.get("reproduced"), bool)
            ):
                continue
            at = "head" if check.manifest.get("at") == "head" else "recorded"
            key = (check.sort_key, str(folder))
            if at not in newest or key > newest[at]["_key"]:
                newest[at] = {
                    "_key": key,
                    "at": at,
                    "reproduced": check.manifest["reproduced"],
                    "why": check.manifest.get("why") or "",
                    "commit": check.manifest.get("git_commit"),
                    "folder": self.ws.relative(folder) + "/",
                }
        return [
            {k: v for k, v in newest[at].items() if k != "_key"}
            for at in ("recorded", "head")
            if at in newest
        ]

    def resolve_text(self, text: str, first_line: int) -> list[Resolution]:
        return [
            resolve(c, self.ws.root, self.bases, self._resolved)
            for c in find_citations(text, first_line)
        ]

    def row_resolutions(self, row: Row) -> list[Resolution]:
        return self.resolve_text(row.own_text, row.line)

    def attempts_naming(self, row: Row) -> list[AttemptEvidence]:
        """Remembered by what the answer depends on: the audit and the html dashboard both ask."""
        key = (row.id, row.has_id, row.ref, row.path.name)
        if key not in self._naming:
            self._naming[key] = self._find_attempts_naming(row)
        return self._naming[key]

    def _find_attempts_naming(self, row: Row) -> list[AttemptEvidence]:
        parts = _WORD.findall(row.id)
        candidates = self._attempts_with_word(parts[-1]) if parts else []
        # Identity, not ==: a dataclass == compares every field of two attempts.
        seen = {id(a) for a in candidates}
        return [a for a in candidates if a.names(row)] + [
            a for a in self._with_rows if row.id in a.attempt.rows and id(a) not in seen
        ]

    def _attempts_with_word(self, word: str) -> list[AttemptEvidence]:
        if word not in self._by_word:
            self._by_word[word] = [a for a, text in self._texts if word in text]
        return self._by_word[word]

    def recorded_folders(self, row: Row) -> list[Path]:
        plan = self.relative(row.path)
        folders = []
        for folder in self.recorded.get(row.id, []):
            check = self.checker.check(folder)
            recorded_plan = check.manifest.get("plan") if check.manifest else None
            if recorded_plan in (None, plan):
                folders.append(folder)
        return folders

    def manifest_folders(
        self, resolutions: list[Resolution], row: Row, foreign: list | None = None
    ) -> set[Path]:
        """Report folders with a manifest that the cited paths point into (or, for a `<TS>/` folder, hold).

        Another row's run proves that row, not this one: it goes to `foreign` as (folder, its row).
        A manifest naming no row is kept, for the row cross-check to report.
        """
        folders: set[Path] = set()
        for resolution in resolutions:
            for path in resolution.existing:
                folder = self.checker.evidence_folder(path, self.ws.root)
                if folder is not None:
                    manifest = self.checker.check(folder).manifest or {}
                    recorded_row = manifest.get("row")
                    if manifest.get("tool") == VERIFY_TOOL:
                        continue
                    if recorded_row in (None, row.id):
                        folders.add(folder)
                    elif foreign is not None and (folder, recorded_row) not in foreign:
                        foreign.append((folder, recorded_row))
                    continue
                below = self.checker.manifest_folders_below(path)
                mine = [
                    f for f in below if (self.checker.check(f).manifest or {}).get("row") == row.id
                ]
                folders.update(mine)
        return folders
