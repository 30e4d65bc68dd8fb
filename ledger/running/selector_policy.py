"""The selector policy: what plan text may make pytest do.

Plan text (a row's guidance, a directive's `Mapped tests:`) is written by agents and
is treated as hostile input. Shell syntax never matters (selectors run as argv lists,
see `ledger.running.selector`), but pytest and the interpreter take orders from the
environment and from options too: `PYTHONWARNINGS`/`PYTHONPATH`/`LD_PRELOAD`/
`PYTEST_ADDOPTS` load code, `-p NAME` and `-c FILE` load plugins and configuration,
`--basetemp DIR` deletes DIR, `-o cache_dir=…`/`--debug=…` write anywhere, and test
paths can point out of the workspace. So every selector that anything runs or
collects (`do`, `selectors --collect`, `check-input`, `brief`) goes through
`SelectorPolicy.check`, and only:

- environment prefixes whose name is on an allowlist (`DEFAULT_ALLOWED_ENV`, extended
  only by `[tool.ledger] allow_env` in the workspace configuration, never by plan text);
- pytest options from an allowlist (`FLAGS`, `VALUED`), each value checked;
- test paths and node ids that resolve (symlinks followed) inside the workspace

pass. Each refusal is an `UnsafeSelector` naming its rule; nothing runs.

ledger adds its own options to every run (`ledger_run_options`): pytest's cache inside
the workspace and a `--basetemp` inside the report folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from ledger.errors import SelectorRule, UnsafeSelector

# remove_basetemp: where its callers import it; it lives beside the report folders it cleans.
from ledger.running.evidence import BASETEMP_NAME, remove_basetemp  # noqa: F401
from ledger.running.selector import Selector, parse_selector

# Names a selector may set as `NAME=value`. Each only picks devices, thread counts, a hash
# seed, log verbosity or determinism; none names a file, a module, a command or a library
# to load. PYTHONHASHSEED is the one PYTHON* name: it only seeds str/bytes hashing (its
# value is checked: an integer 0..4294967295 or "random").
DEFAULT_ALLOWED_ENV = frozenset(
    {
        "CUDA_VISIBLE_DEVICES",
        "HIP_VISIBLE_DEVICES",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "PYTHONHASHSEED",
        "TF_CPP_MIN_LOG_LEVEL",
        "TF_DETERMINISTIC_OPS",
        "CUBLAS_WORKSPACE_CONFIG",
        "TOKENIZERS_PARALLELISM",
    }
)

_HASHSEED = re.compile(r"^(?:random|\d{1,10})$")


def _any(value: str) -> str | None:
    return None


def _choice(*allowed: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)}"

    return check


def _integer(value: str) -> str | None:
    return None if re.fullmatch(r"\d{1,9}", value) else "must be a whole number"


def _number(value: str) -> str | None:
    return None if re.fullmatch(r"\d{1,9}(?:\.\d{1,9})?", value) else "must be a number of seconds"


def _report_chars(value: str) -> str | None:
    return (
        None
        if value and set(value) <= set("fEsxXpPaAwN")
        else "must be characters from fEsxXpPaAwN"
    )


def _workers(value: str) -> str | None:
    return (
        None
        if value in ("auto", "logical") or re.fullmatch(r"\d{1,4}", value)
        else "must be a number, auto or logical"
    )


def _plugin_off(value: str) -> str | None:
    if not re.fullmatch(r"no:[A-Za-z0-9_.:-]+", value):
        return "loads a plugin (code); only -p no:NAME, which disables one, is allowed"
    if value == "no:junitxml":
        return "disables the JUnit report ledger reads its counts from"
    return None


# Options that take no value.
FLAGS = frozenset(
    {
        "-v",
        "--verbose",
        "-q",
        "--quiet",
        "-x",
        "--exitfirst",
        "-s",
        "-l",
        "--showlocals",
        "--lf",
        "--last-failed",
        "--ff",
        "--failed-first",
        "--nf",
        "--new-first",
        "--collect-only",
        "--co",
        "--no-header",
        "--no-summary",
        "--strict-markers",
        "--disable-warnings",
        "--disable-pytest-warnings",
        "--runxfail",
    }
)
# Options that take one value, with the check for it.
VALUED: dict[str, Callable[[str], str | None]] = {
    "-k": _any,  # pytest's own expression language, never eval'd
    "-m": _any,
    "-r": _report_chars,
    "--tb": _choice("auto", "long", "short", "line", "native", "no"),
    "--maxfail": _integer,
    "--durations": _integer,
    "--durations-min": _number,
    "--verbosity": _integer,
    "--capture": _choice("fd", "sys", "no", "tee-sys"),
    "--color": _choice("yes", "no", "auto"),
    "--lfnf": _choice("all", "none"),
    "--last-failed-no-failures": _choice("all", "none"),
    "--timeout": _number,  # pytest-timeout
    "-n": _workers,  # pytest-xdist
    "--numprocesses": _workers,
    "-p": _plugin_off,
}
SHORT_FLAGS = frozenset(option[1] for option in FLAGS if len(option) == 2)
SHORT_VALUED = frozenset(option[1] for option in VALUED if len(option) == 2)
# The options that read pytest's cache; `selectors --collect` runs without the cache
# (it must not write one), so it collects without them.
CACHE_OPTIONS = frozenset(
    {"--lf", "--last-failed", "--ff", "--failed-first", "--nf", "--new-first"}
)
CACHE_VALUED = frozenset({"--lfnf", "--last-failed-no-failures"})

_REPORTS_INSTEAD = "prints information instead of running tests, so a run with it proves nothing"
_CONFIG = "changes which configuration or conftest files pytest reads"
_WRITES = "writes files where ledger does not choose"
# Why notable options are refused (every option not in FLAGS/VALUED is refused anyway).
REFUSED_REASONS = {
    "--version": _REPORTS_INSTEAD,
    "-V": _REPORTS_INSTEAD,
    "--help": _REPORTS_INSTEAD,
    "-h": _REPORTS_INSTEAD,
    "--markers": _REPORTS_INSTEAD,
    "--fixtures": _REPORTS_INSTEAD,
    "--funcargs": _REPORTS_INSTEAD,
    "--fixtures-per-test": _REPORTS_INSTEAD,
    "--setup-only": _REPORTS_INSTEAD,
    "--setup-plan": _REPORTS_INSTEAD,
    "--setup-show": _REPORTS_INSTEAD,
    "--cache-show": _REPORTS_INSTEAD,
    "--trace-config": _REPORTS_INSTEAD,
    "-c": _CONFIG,
    "--config-file": _CONFIG,
    "--inifile": _CONFIG,
    "-o": _CONFIG,
    "--override-ini": _CONFIG,
    "--rootdir": _CONFIG,
    "--confcutdir": _CONFIG,
    "--noconftest": _CONFIG,
    "--basetemp": "pytest deletes that folder before the run; ledger sets its own inside the report folder",
    "--debug": _WRITES,
    "--log-file": _WRITES,
    "--junitxml": _WRITES,
    "--junit-xml": _WRITES,
    "--result-log": _WRITES,
    "--resultlog": _WRITES,
    "--cache-clear": _WRITES,
    "--pyargs": "imports its arguments as modules",
    "-W": "imports the module its warning category names",
    "--pythonwarnings": "imports the module its warning category names",
    "--": "ends option parsing; write test paths and options plainly",
}


@dataclass(frozen=True)
class SelectorPolicy:
    """The policy of one workspace: its root (paths must stay inside) and its env allowlist."""

    root: Path
    allowed_env: frozenset[str] = DEFAULT_ALLOWED_ENV

    @classmethod
    def for_workspace(cls, ws) -> SelectorPolicy:
        return cls(ws.root.resolve(), DEFAULT_ALLOWED_ENV | frozenset(ws.config.allow_env))

    def parse(self, text: str, path: Path | str | None = None, line: int | None = None) -> Selector:
        """`text` parsed and checked; a refusal names `path:line` (the plan row, the directive line)."""
        try:
            return self.check(parse_selector(text))
        except UnsafeSelector as exc:
            raise exc.at(path, line) from None

    def check(self, selector: Selector) -> Selector:
        for name, value in selector.env.items():
            self._check_env(selector, name, value)
        self._check_args(selector)
        return selector

    # ------------------------------------------------------------------ environment

    def _check_env(self, selector: Selector, name: str, value: str) -> None:
        if name not in self.allowed_env:
            raise UnsafeSelector(
                f"selector {selector.text!r}: environment name {name} is not allowed "
                f"(allowed: {', '.join(sorted(self.allowed_env))}; add names with [tool.ledger] allow_env)",
                rule=SelectorRule.ENV_ALLOWLIST,
            )
        if "\x00" in value:
            raise UnsafeSelector(
                f"selector {selector.text!r}: {name} holds a NUL byte",
                rule=SelectorRule.ENV_ALLOWLIST,
            )
        if name == "PYTHONHASHSEED" and not (
            _HASHSEED.match(value) and (value == "random" or int(value) <= 4294967295)
        ):
            raise UnsafeSelector(
                f"selector {selector.text!r}: PYTHONHASHSEED must be an integer 0..4294967295 or random",
                rule=SelectorRule.ENV_ALLOWLIST,
            )

    # ------------------------------------------------------------------ options and paths

    def _check_args(self, selector: Selector) -> None:
        args = list(selector.args)
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if "\x00" in arg:
                raise self._option(selector, arg, "holds a NUL byte")
            if arg.startswith("--"):
                name, eq, value = arg.partition("=")
                if name in FLAGS and not eq:
                    continue
                if name in VALUED:
                    if not eq:
                        value, i = self._separate_value(selector, name, args, i)
                    self._check_value(selector, name, value)
                    continue
                raise self._option(selector, name or arg, REFUSED_REASONS.get(name))
            if arg.startswith("-") and len(arg) > 1:
                i = self._check_short_cluster(selector, arg, args, i)
                continue
            if arg.startswith("@"):
                raise self._option(selector, arg, "makes pytest read more arguments from that file")
            self._check_path(selector, arg)

    def _check_short_cluster(self, selector: Selector, arg: str, args: list[str], i: int) -> int:
        """`-vv`, `-xvs`, `-rA`, `-kexpr`, `-k expr`: argparse's clustering of short options."""
        position = 1
        while position < len(arg):
            letter = arg[position]
            option = "-" + letter
            if letter in SHORT_FLAGS:
                position += 1
                continue
            if letter in SHORT_VALUED:
                value = arg[position + 1 :]
                if not value:
                    value, i = self._separate_value(selector, option, args, i)
                self._check_value(selector, option, value)
                return i
            raise self._option(selector, option, REFUSED_REASONS.get(option))
        return i

    def _separate_value(
        self, selector: Selector, option: str, args: list[str], i: int
    ) -> tuple[str, int]:
        if i >= len(args):
            raise self._option(selector, option, "needs a value")
        value = args[i]
        if value.startswith("-"):
            # argparse would read it as the next option, not as this one's value.
            raise self._option(selector, option, f"is followed by {value!r}, not by a value")
        return value, i + 1

    def _check_value(self, selector: Selector, option: str, value: str) -> None:
        problem = VALUED[option](value)
        if problem:
            raise self._option(selector, f"{option} {value}", problem)

    def _option(self, selector: Selector, option: str, reason: str | None) -> UnsafeSelector:
        if reason is None:
            allowed = " ".join(sorted(FLAGS | set(VALUED), key=lambda o: (o.startswith("--"), o)))
            reason = f"is not on the option allowlist ({allowed})"
        return UnsafeSelector(
            f"selector {selector.text!r}: option {option} {reason}",
            rule=SelectorRule.OPTION_ALLOWLIST,
        )

    def _check_path(self, selector: Selector, arg: str) -> None:
        """A test path or node id (`path::name[param]`): its path must resolve inside the workspace."""
        part = arg.split("::", 1)[0]
        if not part:
            raise UnsafeSelector(
                f"selector {selector.text!r}: node id {arg!r} names no file",
                rule=SelectorRule.PATH_CONFINEMENT,
            )
        resolved = (self.root / part).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise UnsafeSelector(
                f"selector {selector.text!r}: test path {part!r} resolves outside the workspace ({resolved})",
                rule=SelectorRule.PATH_CONFINEMENT,
            )


def check_recorded_env(policy: SelectorPolicy, recorded: dict, config_env: dict[str, str]) -> None:
    """The environment a manifest recorded (`env_overrides`: the configuration's `env` under
    the selector's prefixes): every name must be allowed, or set by the configuration now."""
    for name, value in recorded.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise UnsafeSelector(
                f'recorded environment {name!r} is not NAME = "value"',
                rule=SelectorRule.ENV_ALLOWLIST,
            )
        if "\x00" in value:
            raise UnsafeSelector(
                f"recorded environment {name} holds a NUL byte", rule=SelectorRule.ENV_ALLOWLIST
            )
        if name in config_env and config_env[name] == value:
            continue
        if name not in policy.allowed_env:
            raise UnsafeSelector(
                f"recorded environment name {name} is not allowed (allowed: {', '.join(sorted(policy.allowed_env))}; "
                "add names with [tool.ledger] allow_env)",
                rule=SelectorRule.ENV_ALLOWLIST,
            )


# ---------------------------------------------------------------------- ledger's own options

CACHE_DIR_NAME = ".pytest_cache"


def ledger_run_options(root: Path, report_dir: Path, args: Iterable[str]) -> list[str]:
    """The options ledger adds to every `ledger do` run, after the selector's own.

    pytest's cache stays inside the workspace (`-o cache_dir=`, so `--lf`/`--ff` and the
    `cache` fixture work wherever pytest puts its rootdir), unless the selector turns the
    cache off; `tmp_path` folders live in `report_dir/basetemp`, which ledger removes after
    the run (pytest would delete whatever `--basetemp` names first).
    """
    args = list(args)
    options = []
    if not _disables(args, "cacheprovider"):
        cache = root / CACHE_DIR_NAME
        resolved = cache.resolve()
        if resolved != root.resolve() and root.resolve() not in resolved.parents:
            raise UnsafeSelector(
                f"pytest's cache folder resolves outside the workspace ({resolved}); remove the link",
                CACHE_DIR_NAME,
                rule=SelectorRule.PATH_CONFINEMENT,
            )
        options += ["-o", f"cache_dir={cache}"]
    options.append(f"--basetemp={report_dir / BASETEMP_NAME}")
    return options


def collect_only_args(args: Iterable[str]) -> list[str]:
    """The selector's arguments for `pytest --collect-only -p no:cacheprovider`: without the
    options that need the cache (pytest would refuse them as unknown)."""
    kept: list[str] = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
            continue
        name = arg.partition("=")[0]
        if arg in CACHE_OPTIONS:
            continue
        if name in CACHE_VALUED:
            skip_next = "=" not in arg
            continue
        kept.append(arg)
    return kept


def _disables(args: list[str], plugin: str) -> bool:
    target = f"no:{plugin}"
    return any(a == f"-p{target}" for a in args) or any(
        a == "-p" and b == target for a, b in pairwise(args)
    )
