"""`ledger do` ends with `os._exit` (ledger.entry): nothing it wrote may be lost on the way."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from ledger.entry import exits_without_teardown


def run_exit(code_expr: str) -> subprocess.CompletedProcess:
    """`_exit_now(code)` in a fresh interpreter whose stdout is a pipe (block-buffered), after
    buffered output on both streams and an atexit handler."""
    script = textwrap.dedent(
        f"""
        import atexit, sys
        from ledger.entry import _exit_now
        atexit.register(lambda: sys.stdout.write("atexit handler ran\\n"))
        sys.stdout.write('{{"result": "buffered, never flushed by hand"}}\\n')
        sys.stderr.write("stderr line\\n")
        _exit_now({code_expr})
        print("not reached")
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("code_expr", "status"), [("None", 0), ("0", 0), ("5", 5), ("124", 124)])
def test_exit_now_flushes_both_streams_runs_atexit_and_keeps_the_status(code_expr, status):
    done = run_exit(code_expr)
    assert done.returncode == status
    assert done.stdout == '{"result": "buffered, never flushed by hand"}\natexit handler ran\n'
    assert done.stderr == "stderr line\n"


def test_exit_now_with_a_message_prints_it_and_exits_1_like_system_exit():
    done = run_exit('"ledger: gone"')
    assert done.returncode == 1
    assert done.stderr == "stderr line\nledger: gone\n"


def test_only_do_and_audit_exit_without_teardown():
    assert exits_without_teardown(["ledger", "do", "X", "A1"])
    assert exits_without_teardown(["ledger", "audit", "--json"])
    assert not exits_without_teardown(["ledger", "status"])
    assert not exits_without_teardown(["ledger"])
    assert not exits_without_teardown(["ledger", "verify", "do"])
