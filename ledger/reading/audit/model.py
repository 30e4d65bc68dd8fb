"""What an audit finds: a class per row, with reasons, and workspace-wide issues."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from ledger.documents.states import RowState


class AuditClass(StrEnum):
    """A row's audit class, best first: the order tables and JSON counts use."""

    VERIFIED = "verified"
    EVIDENCED = "evidenced"
    PARTIAL = "partial"
    OPEN = "open"
    CLAIMED = "claimed"
    MISSING = (
        "missing"  # a cited run's files are absent on this clone (never committed), none edited
    )
    INCONSISTENT = "inconsistent"
    CONTRADICTED = "contradicted"
    TAMPERED = "tampered"
    UNKNOWN = "unknown"  # the state cell holds a token ledger does not know


# The classes that fail the audit whatever the flags (`--strict` adds evidenced).
FAILING = frozenset(
    {
        AuditClass.TAMPERED,
        AuditClass.CLAIMED,
        AuditClass.CONTRADICTED,
        AuditClass.INCONSISTENT,
        AuditClass.MISSING,
    }
)

# What each class proves, exactly (`ledger audit --explain`, README).
EXPLAIN = {
    AuditClass.VERIFIED: "done, and a run recorded by `ledger do` that the row or an attempt naming it cites passed; the "
    "manifest's own hash (manifest_sha256) and every file hash match; the outcome agrees with junit.xml (at least "
    "one test executed, none failed or errored), which agrees with pytest.log's summary line; the run is of this "
    "row and of the selector the row names now; its folder name, started_at and commit time agree and none is in "
    "the future; its commit exists in this repository. It does NOT prove the files were not forged by someone who "
    "knows the format and recomputed every hash: that is what 'attested' and 'reproduced' add.",
    "attested": "verified, and the manifest carries an HMAC made with a key this machine trusts (`ledger key init`, "
    "LEDGER_TRUSTED_KEYS). Proves the manifest was written by a process that could read that key and not changed "
    "since; proves nothing against anyone who can read the key (an agent running as the same user can, unless the "
    "loop keeps the key from it).",
    "reproduced": "verified, and `ledger verify` re-ran the run's selector in a clean git worktree of its recorded "
    "commit (or of HEAD, --at-head) and got the same outcome and counts; 'not reproduced' means it did not (the row "
    "fails the audit).",
    AuditClass.EVIDENCED: "done, and it cites files that exist, but no sealed intact manifest backs it: hand-made evidence, or a "
    "manifest without its own hash (hand-written, or from a ledger before manifest version 2). Proves only that files exist.",
    AuditClass.PARTIAL: "marked partial; nothing is claimed.",
    AuditClass.OPEN: "marked open and no recorded run passed since.",
    AuditClass.CLAIMED: "done, but nothing it cites exists (or it cites nothing, or only placeholders).",
    AuditClass.INCONSISTENT: "done, and a passing run with an intact sealed manifest is cited, but a cross-check failed: outcome "
    "vs junit.xml vs pytest.log, another row or another selector, folder time vs started_at vs commit time, a "
    "future time, a commit not in the repository. Each failed check is named.",
    AuditClass.CONTRADICTED: "done while its newest counted run (by recorded start) did not pass, or open while it passed.",
    AuditClass.TAMPERED: "a cited or recorded run's files no longer match its manifest, or the manifest no longer matches its "
    "own hash or attestation: edited after it was written.",
    AuditClass.MISSING: "done, and the run it cites (or, for an open row, its recorded run) lists files in its manifest "
    "that are absent on this clone while every file present still matches: the evidence was never committed "
    "(a .gitignore of *.log, a commit of the folder by hand) or was deleted here. Not tampering; the fix is to "
    "commit those files on the machine that ran it (`ledger do --commit` force-adds them).",
    AuditClass.UNKNOWN: "the state cell holds a token ledger does not know.",
}


class IssueKind(StrEnum):
    """A workspace-wide audit issue, in the order the text report lists them (the order a
    reader should fix them in), each with the heading it is listed under there."""

    heading: str  # what the text report lists its issues under

    def __new__(cls, value: str, *heading: Any) -> IssueKind:
        # *heading: the table's heading when it defines a member; nothing on a lookup by value.
        member = str.__new__(cls, value)
        member._value_ = value
        (member.heading,) = heading
        return member

    TAMPERED_REPORT = "tampered_report", "tampered report folders"
    MISSING_EVIDENCE = (
        "missing_evidence",
        "report folders whose files are missing on this clone (never committed)",
    )
    INCOMPLETE_REPORT = "incomplete_report", "half-written report folders"
    # Fails the audit until `ledger repair` (or any writing command) completes the run.
    HALF_RECORDED_RUN = "half_recorded_run", "runs a killed ledger left half-recorded"
    FUTURE_REPORT = "future_report", "report folders dated in the future"
    UNSEALED_REPORT = (
        "unsealed_report",
        "manifests without their own hash (not counted as ledger runs)",
    )
    PLAN_LEDGER = "plan_ledger", "plan and ledger disagree"
    ATTEMPT_NUMBERS = "attempt_numbers", "attempt numbering"
    LEDGER_ITEM = "ledger_item", "ledger items"
    MISSING_ARTIFACT = "missing_artifact", "attempts citing missing artifacts"
    PLACEHOLDER = "placeholder", "attempts citing placeholders"
    UNKNOWN_FINDING = "unknown_finding", "unknown findings"
    ORPHAN_REPORT = "orphan_report", "orphan report folders"
    ROOT_LOG = "root_log", "logs at the workspace root"
    UNINTERPRETED = "uninterpreted", "could not interpret"
    TEMP_LEFTOVER = "temp_leftover", "temp files a killed ledger left"


@dataclass(frozen=True)
class Reason:
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = (
            f"{self.file}:{self.line}: "
            if self.file and self.line
            else (f"{self.file}: " if self.file else "")
        )
        return f"{where}{self.message}"


def reproduction_label(result: dict) -> str:
    """One `ledger verify` result of a row's proof as audit names it: `reproduced`,
    `not reproduced`, each with ` at HEAD` for a re-run at HEAD."""
    return f"{'reproduced' if result['reproduced'] else 'not reproduced'}{' at HEAD' if result['at'] == 'head' else ''}"


@dataclass
class RowAudit:
    initiative: str
    row: str
    qualified_id: str
    description: str
    state: RowState | None
    token: str
    file: str
    line: int
    audit: AuditClass
    reasons: list[Reason] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # report folders that back the class
    proof: str | None = None  # the run folder that verifies the row
    attested_by: str | None = None  # key id of the proof's attestation
    reproduction: list[dict] = field(
        default_factory=list
    )  # `ledger verify` results for the proof, newest per place
    # Verified, but its test files or library code changed after the proving run's commit:
    # {"since": commit, "files": [...], "commits": ["sha subject", ...]} (info; fails --strict).
    stale: dict | None = None
    # TDD: the newest confirmed red run and the first passing run after it, {"red", "green"}.
    tdd: dict | None = None

    @property
    def label(self) -> str:
        """`verified, attested by <key> · reproduced`: the class with what backs it further."""
        text: str = self.audit
        if self.stale:
            text += ", stale"
        if self.attested_by:
            text += f", attested by {self.attested_by}"
        for result in self.reproduction:
            text += f" · {reproduction_label(result)}"
        return text

    @property
    def not_reproduced(self) -> bool:
        return any(not result["reproduced"] for result in self.reproduction)

    def to_json(self) -> dict:
        data = asdict(self)
        data["reasons"] = [asdict(r) | {"text": str(r)} for r in self.reasons]
        data["label"] = self.label
        return data


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    message: str
    file: str | None = None
    line: int | None = None
    initiative: str | None = None
    failing: bool = False  # counts against the exit code

    def __str__(self) -> str:
        return str(Reason(self.message, self.file, self.line))

    def to_json(self) -> dict:
        return asdict(self) | {"text": str(self)}


def class_counts(rows: list[RowAudit]) -> dict[str, int]:
    """How many of `rows` are in each class, every class named (best first)."""
    counts: dict[str, int] = {name: 0 for name in AuditClass}
    for row in rows:
        counts[row.audit] += 1
    return counts


@dataclass
class AuditReport:
    root: str
    initiatives: list[str]
    rows: list[RowAudit] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    since: str | None = None  # `audit --since REV`: only what changed since REV

    def counts(self, initiative: str | None = None) -> dict[str, int]:
        return class_counts(
            self.rows
            if initiative is None
            else [row for row in self.rows if row.initiative == initiative]
        )

    def rows_by_initiative(self) -> dict[str, list[RowAudit]]:
        """Each initiative's rows, in order, found in one pass: filtering every row for each
        of 200 initiatives was a tenth of a large audit's report."""
        found: dict[str, list[RowAudit]] = {name: [] for name in self.initiatives}
        for row in self.rows:
            found.setdefault(row.initiative, []).append(row)
        return found

    def failing_rows(self, strict: bool = False, require_attested: bool = False) -> list[RowAudit]:
        failing = FAILING | ({AuditClass.EVIDENCED} if strict else set())
        return [
            row
            for row in self.rows
            if row.audit in failing
            or row.not_reproduced
            or (strict and row.stale)
            or (
                require_attested
                and row.state == RowState.DONE
                and not (row.audit is AuditClass.VERIFIED and row.attested_by)
            )
        ]

    def exit_code(self, strict: bool = False, require_attested: bool = False) -> int:
        return (
            1
            if self.failing_rows(strict, require_attested)
            or any(issue.failing for issue in self.issues)
            else 0
        )

    def to_json(self, strict: bool = False, require_attested: bool = False) -> dict:
        by_initiative = self.rows_by_initiative()
        return {
            "root": self.root,
            "strict": strict,
            "require_attested": require_attested,
            "exit_code": self.exit_code(strict, require_attested),
            "since": self.since,
            "counts": self.counts(),
            "initiatives": [
                {
                    "initiative": name,
                    "counts": class_counts(by_initiative[name]),
                    "rows": [r.to_json() for r in by_initiative[name]],
                }
                for name in self.initiatives
            ],
            "issues": [issue.to_json() for issue in self.issues],
        }
