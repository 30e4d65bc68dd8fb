"""What an audit finds: a class per row, with reasons, and workspace-wide issues."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

VERIFIED, EVIDENCED, TAMPERED, CLAIMED, CONTRADICTED = "verified", "evidenced", "tampered", "claimed", "contradicted"
OPEN, PARTIAL, UNKNOWN = "open", "partial", "unknown"
# Best first; the order tables and JSON counts use.
CLASSES = (VERIFIED, EVIDENCED, PARTIAL, OPEN, CLAIMED, CONTRADICTED, TAMPERED, UNKNOWN)
FAILING = frozenset({TAMPERED, CLAIMED, CONTRADICTED})


@dataclass(frozen=True)
class Reason:
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        return f"{where}{self.message}"


@dataclass
class RowAudit:
    initiative: str
    row: str
    qualified_id: str
    description: str
    state: str | None
    token: str
    file: str
    line: int
    audit: str
    reasons: list[Reason] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # report folders that back the class

    def to_json(self) -> dict:
        data = asdict(self)
        data["reasons"] = [asdict(r) | {"text": str(r)} for r in self.reasons]
        return data


@dataclass(frozen=True)
class Issue:
    kind: str  # attempt_numbers, missing_artifact, placeholder, unknown_finding, orphan_report, root_log, ...
    message: str
    file: str | None = None
    line: int | None = None
    initiative: str | None = None
    failing: bool = False  # counts against the exit code

    def __str__(self) -> str:
        return str(Reason(self.message, self.file, self.line))

    def to_json(self) -> dict:
        return asdict(self) | {"text": str(self)}


@dataclass
class AuditReport:
    root: str
    initiatives: list[str]
    rows: list[RowAudit] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def counts(self, initiative: str | None = None) -> dict[str, int]:
        counts = {name: 0 for name in CLASSES}
        for row in self.rows:
            if initiative is None or row.initiative == initiative:
                counts[row.audit] += 1
        return counts

    def failing_rows(self, strict: bool = False) -> list[RowAudit]:
        failing = FAILING | ({EVIDENCED} if strict else set())
        return [row for row in self.rows if row.audit in failing]

    def exit_code(self, strict: bool = False) -> int:
        return 1 if self.failing_rows(strict) or any(issue.failing for issue in self.issues) else 0

    def to_json(self, strict: bool = False) -> dict:
        return {
            "root": self.root,
            "strict": strict,
            "exit_code": self.exit_code(strict),
            "counts": self.counts(),
            "initiatives": [
                {"initiative": name, "counts": self.counts(name), "rows": [r.to_json() for r in self.rows if r.initiative == name]}
                for name in self.initiatives
            ],
            "issues": [issue.to_json() for issue in self.issues],
        }
