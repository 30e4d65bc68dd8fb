"""Test counts from a JUnit XML report, the one pytest writes with `--junitxml`."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from ledger.running.evidence import read_small_file


class JUnitError(Exception):
    """The report is missing or not JUnit XML (pytest died before writing it)."""


@dataclass(frozen=True)
class JUnitCounts:
    tests: int
    failed: int
    errors: int
    skipped: int
    # Test cases pytest wrote for a module that failed to import (`<error message="collection failure">`).
    collection_errors: int = 0

    @property
    def passed(self) -> int:
        return max(0, self.tests - self.failed - self.errors - self.skipped)


def parse_junit(path: Path | str) -> JUnitCounts:
    """Count test cases by their outcome element rather than trusting suite attributes.

    pytest's suite totals count a test that fails in teardown as both passed and
    errored; counting each `<testcase>` once, by its worst outcome, cannot double count.
    """
    try:
        root = ElementTree.fromstring(read_small_file(path))
    except FileNotFoundError:
        raise JUnitError(f"{path}: no JUnit report") from None
    except ElementTree.ParseError as exc:
        raise JUnitError(f"{path}: not XML ({exc})") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitError(f"{path}: root element <{root.tag}> is not <testsuites> or <testsuite>")
    tests = failed = errors = skipped = collection_errors = 0
    for case in root.iter("testcase"):
        if not case.get("name") and not case.get("classname") and len(case) == 0:
            # pytest writes a bare `<testcase time="0.000" />` for a test cut short by
            # Ctrl-C: it neither passed nor failed, so it is not counted.
            continue
        tests += 1
        tags = {child.tag for child in case}
        if "error" in tags:
            errors += 1
            if any(
                child.tag == "error" and child.get("message") == "collection failure"
                for child in case
            ):
                collection_errors += 1
        elif "failure" in tags:
            failed += 1
        elif "skipped" in tags:
            skipped += 1
    return JUnitCounts(
        tests=tests,
        failed=failed,
        errors=errors,
        skipped=skipped,
        collection_errors=collection_errors,
    )
