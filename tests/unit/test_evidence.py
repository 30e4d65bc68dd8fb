import os
from datetime import datetime, timezone

import pytest

from ledger.errors import BadInput
from ledger.running.evidence import check_slug, create_report_dir, hash_files, plan_report_dir, read_manifest, row_manifests, write_manifest

NOW = datetime(2026, 11, 23, 3, 40, 5, tzinfo=timezone.utc)


def test_report_dir_layout(tmp_path):
    report = create_report_dir(tmp_path, tmp_path / "plans/active/X/reports", "phase_d_hardening", NOW)
    assert report.path == tmp_path / "plans/active/X/reports/2026-11-23T034005Z/phase_d_hardening"
    assert report.path.is_dir() and report.from_initiative == "reports/2026-11-23T034005Z/phase_d_hardening/"


def test_never_reuses_an_existing_dir(tmp_path):
    root = tmp_path / "reports"
    first = create_report_dir(tmp_path, root, "s", NOW)
    second = create_report_dir(tmp_path, root, "s", NOW)
    assert first.path != second.path and second.timestamp == "2026-11-23T034006Z"
    assert plan_report_dir(root, "s", NOW).timestamp == "2026-11-23T034007Z"


@pytest.mark.parametrize("slug", ["../x", "a/b", "/abs", "", "UPPER", ".hidden"])
def test_bad_slugs(slug):
    with pytest.raises(BadInput):
        check_slug(slug)


def test_symlinked_report_root_outside_workspace_is_refused(tmp_path):
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    (ws / "plans/active/X").mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside, ws / "plans/active/X/reports")
    with pytest.raises(BadInput, match="outside the workspace"):
        create_report_dir(ws, ws / "plans/active/X/reports", "s", NOW)
    assert list(outside.iterdir()) == []


def test_manifest_round_trip_and_row_lookup(tmp_path):
    root = tmp_path / "reports"
    report = create_report_dir(tmp_path, root, "s", NOW)
    (report.path / "pytest.log").write_text("log")
    write_manifest(report.path, {"row": "D1", "outcome": "passed", "files": hash_files(report.path)})
    manifest = read_manifest(report.path)
    assert set(manifest["files"]) == {"pytest.log"}
    assert [m["row"] for _, m in row_manifests(root, "D1")] == ["D1"]
    assert row_manifests(root, "D2") == []
