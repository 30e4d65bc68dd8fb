"""A row's selector: the first one in its guidance (or one given instead), under the policy."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.documents.plan import Row
from ledger.errors import BadInput
from ledger.running.selector import Selector, find_selectors
from ledger.workspace import Workspace


@dataclass
class ResolvedSelector:
    selector: Selector
    source: str  # "--selector", or "file:line" of the row it came from
    env: dict[str, str]  # config overrides under the selector's own prefixes


def resolve_selector(
    ws: Workspace,
    row: Row,
    override: str | None,
    override_source: str | None = None,
    override_where: str | None = None,
) -> ResolvedSelector:
    """The row's selector (or `override`), checked against the workspace's selector policy;
    a refusal names `override_where` (the directive's file:line) or else the source."""
    from ledger.running.selector_policy import SelectorPolicy

    policy = SelectorPolicy.for_workspace(ws)
    if override is not None:
        source = override_source or "--selector"
        selector = policy.parse(override, override_where or source)
    else:
        found = find_selectors(row.guidance) or find_selectors(row.description)
        if not found:
            raise BadInput(
                f"row {row.ref} has no pytest selector in its guidance (a code span like `pytest tests/x.py::test_y`); "
                "pass --selector",
                ws.relative(row.path),
                row.line,
            )
        selector = policy.parse(found[0], ws.relative(row.path), row.line)
        source = f"{ws.relative(row.path)}:{row.line}"
    return ResolvedSelector(selector, source, {**ws.config.env, **selector.env})
