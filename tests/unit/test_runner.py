"""The runner on real child processes: streaming, log bytes, timeouts, process groups, Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from ledger.running.junit import JUnitError, parse_junit
from ledger.running.runner import RunRequest, format_elapsed, pytest_argv, run_streaming


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def run(tmp_path: Path, argv, **kwargs):
    lines: list[str] = []
    result = run_streaming(
        RunRequest(argv=argv, env_overrides=kwargs.pop("env", {}), cwd=tmp_path, log_path=tmp_path / "out.log", **kwargs),
        lines.append,
    )
    return result, lines


def test_log_keeps_raw_bytes_and_echo_gets_lines(tmp_path):
    code = "import sys; sys.stdout.buffer.write(b'caf\\xc3\\xa9\\r\\nbad \\xff\\nno newline')"
    result, lines = run(tmp_path, python(code))
    assert result.exit_code == 0 and not result.timed_out and not result.interrupted
    assert (tmp_path / "out.log").read_bytes() == b"caf\xc3\xa9\r\nbad \xff\nno newline"
    assert lines[:3] == ["café", "bad \ufffd", "no newline"]
    assert lines[-1].startswith("[ledger] elapsed ")


def test_stderr_is_interleaved_into_the_log_and_exit_code_kept(tmp_path):
    result, _ = run(tmp_path, python("import sys; print('out', flush=True); print('err', file=sys.stderr); sys.exit(3)"))
    assert result.exit_code == 3
    assert (tmp_path / "out.log").read_text().split() == ["out", "err"]


def test_env_overrides_reach_the_child(tmp_path):
    _, lines = run(tmp_path, python("import os; print(repr(os.environ['CUDA_VISIBLE_DEVICES']))"), env={"CUDA_VISIBLE_DEVICES": ""})
    assert lines[0] == "''"


def test_output_streams_before_the_process_ends(tmp_path):
    """The child prints a line, then waits until the runner has echoed it: a handshake, not a
    clock (a 1.2 s bound failed whenever the loaded machine was slow to start Python)."""
    seen = tmp_path / "first-seen"
    lines: list[str] = []

    def echo(line: str) -> None:
        lines.append(line)
        if line == "first":
            seen.touch()

    code = f"""
        import os, time
        print("first", flush=True)
        deadline = time.monotonic() + 60
        while not os.path.exists({str(seen)!r}) and time.monotonic() < deadline:
            time.sleep(0.01)
        print("second, first seen while running" if os.path.exists({str(seen)!r}) else "second, never seen")
    """
    run_streaming(RunRequest(python(code), {}, tmp_path, tmp_path / "l.log"), echo)
    assert lines[:2] == ["first", "second, first seen while running"]


def alive(pid: int) -> bool:
    """Running and not a zombie. It can exit between any two psutil calls, so every
    psutil.Error (NoSuchProcess, ZombieProcess) means gone."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_timeout_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    code = f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        print("spawned", flush=True)
        time.sleep(60)
    """
    # The timeout counts from the child's start: on a loaded machine Python may not reach the
    # spawn within 1 s, so a longer one is tried until the grandchild existed when it struck.
    for timeout_s in (1.0, 5.0, 20.0):
        started = time.monotonic()
        result, lines = run(tmp_path, python(code), timeout_s=timeout_s)
        assert result.timed_out and time.monotonic() - started < timeout_s + 30  # not the child's 60 s
        if pid_file.exists():
            break
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(grandchild):
        assert time.monotonic() < deadline, "grandchild survived the timeout"
        time.sleep(0.05)
    assert any(f"timeout after {timeout_s:g}s" in line for line in lines)
    assert "spawned" in (tmp_path / "out.log").read_text()


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path, monkeypatch):
    monkeypatch.setattr("ledger.running.runner.GRACE_S", 0.5)
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('x', flush=True); time.sleep(60)"
    # Ignoring from its first instruction (inherited): its own signal() call came too late when
    # the loaded machine took over 0.5 s to start Python, and SIGTERM then simply ended it.
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        started = time.monotonic()
        result, _ = run(tmp_path, python(code), timeout_s=0.5)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.timed_out and result.exit_code == -signal.SIGKILL
    assert time.monotonic() - started < 30  # the grace period, not the child's 60 s


@pytest.fixture
def ctrl_c_reaches_this_process():
    """SIGINT as a terminal leaves it, for this test only. A suite started with SIGINT ignored
    (`make test &` from a script, nohup: the shell sets it to SIG_IGN) or blocked inherits that,
    and the test's own Ctrl-C then never arrives: the child ran its full 60 s."""
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, handler)


def test_ctrl_c_stops_the_child_and_keeps_the_partial_log(tmp_path, ctrl_c_reaches_this_process):
    code = """
        import time
        try:
            print("before", flush=True)
            time.sleep(60)
        except KeyboardInterrupt:
            print("child saw SIGINT", flush=True)
            raise SystemExit(2)
    """
    # Ctrl-C once the child is inside its try (it printed "before"), not after a fixed second:
    # on a loaded machine the child was still starting Python then and never printed its line.
    before_seen = threading.Event()

    def interrupt_when_ready():
        if before_seen.wait(60):
            os.kill(os.getpid(), signal.SIGINT)

    def echo(line: str) -> None:
        lines.append(line)
        if line == "before":
            before_seen.set()

    lines: list[str] = []
    threading.Thread(target=interrupt_when_ready, daemon=True).start()
    result = run_streaming(RunRequest(python(code), {}, tmp_path, tmp_path / "out.log"), echo)
    assert result.interrupted and not result.timed_out
    log = (tmp_path / "out.log").read_text()
    assert "before" in log and "child saw SIGINT" in log
    assert any("interrupted" in line for line in lines)


def test_peak_rss_is_sampled(tmp_path):
    result, _ = run(tmp_path, python("b = bytearray(200 * 1024 * 1024); import time; time.sleep(0.5)"))
    assert result.peak_rss_bytes is not None and result.peak_rss_bytes > 150 * 1024 * 1024


def test_pytest_argv_uses_this_interpreter_and_adds_junit(tmp_path):
    argv = pytest_argv(["pytest", "tests/x.py::test_y", "-vv"], tmp_path / "junit.xml")
    assert argv == [sys.executable, "-m", "pytest", "tests/x.py::test_y", "-vv", f"--junitxml={tmp_path / 'junit.xml'}"]
    with pytest.raises(ValueError):
        pytest_argv(["bash", "-c", "true"], tmp_path / "junit.xml")


def test_format_elapsed():
    assert format_elapsed(3.0, None) == "elapsed 3.0s (no previous passing run)"
    assert format_elapsed(3.0, 2.0) == "elapsed 3.0s (previous passing run 2.0s, 1.50x)"


def test_junit_counts_from_a_real_pytest_run(tmp_path):
    (tmp_path / "test_mix.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_ok(): pass
            def test_bad(): assert False
            @pytest.mark.skip(reason="no")
            def test_skip(): pass
            @pytest.fixture
            def broken():
                raise RuntimeError("setup")
            def test_error(broken): pass
            """
        )
    )
    junit = tmp_path / "junit.xml"
    result, _ = run(tmp_path, pytest_argv(["pytest", "test_mix.py", "-p", "no:cacheprovider"], junit))
    assert result.exit_code == 1
    counts = parse_junit(junit)
    assert (counts.tests, counts.passed, counts.failed, counts.errors, counts.skipped) == (4, 1, 1, 1, 1)


def test_junit_errors(tmp_path):
    with pytest.raises(JUnitError, match="no JUnit report"):
        parse_junit(tmp_path / "missing.xml")
    (tmp_path / "bad.xml").write_text("<testsuites><testsuite>")
    with pytest.raises(JUnitError, match="not XML"):
        parse_junit(tmp_path / "bad.xml")
    (tmp_path / "html.xml").write_text("<html/>")
    with pytest.raises(JUnitError, match="not <testsuites>"):
        parse_junit(tmp_path / "html.xml")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_run_itself_carries_the_parent_death_signal(tmp_path):
    # The command started is the argv itself (no wrapper interpreter in between), and the
    # kernel will SIGKILL it when ledger dies: PR_GET_PDEATHSIG (2) reads the setting back.
    code = """
        import ctypes, os, sys
        value = ctypes.c_int()
        ctypes.CDLL(None, use_errno=True).prctl(2, ctypes.byref(value), 0, 0, 0)
        print(value.value, os.getppid(), sys.orig_argv[1])
    """
    _, lines = run(tmp_path, python(code))
    signal_number, parent, first_option = lines[0].split()
    assert int(signal_number) == signal.SIGKILL
    assert int(parent) == os.getpid()
    assert first_option == "-c"


def test_a_previous_duration_given_as_a_function_is_asked_when_the_line_is_printed(tmp_path):
    # ledger do reads the row's history while the tests run: the runner asks for it only at the end.
    asked: list[bool] = []

    def previous() -> float:
        asked.append(True)
        return 4.0

    _, lines = run(tmp_path, python("print('ran')"), previous_duration_s=previous)
    assert lines[0] == "ran"
    assert asked and "(previous passing run 4.0s, " in lines[-1]
