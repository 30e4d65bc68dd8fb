"""Three-way merge of the ledger and plan files written by concurrent loops.

Two loops on two machines append attempts to the same ledger item and flip
rows of the same plan, then both push. A line-based merge sees two insertions
at one spot (or two edits of one table row) and gives up; this one knows what
those edits mean:

- insertions at the same place from both sides are kept, ours first, then
  theirs (a shared prefix, such as a new item heading both created, once);
- the same table row or checklist item changed on both sides is merged cell
  by cell: text both sides appended to a cell is kept from both, and when the
  two states differ the one that needs attention wins (partial, then open,
  then done);
- a row whose previous run note (`✅ date — … Artifacts: reports/<TS>/…`) both
  sides' `ledger do` replaced with their own keeps both new notes;
- in the ledger, attempts both sides numbered alike are renumbered on one side
  only: the side that is already published keeps its numbers (other clones'
  text may cite them) and its entries come first; the other side's follow.
  Under `git merge` the published side is theirs (%B, the upstream being
  merged in); under `git rebase`, `pull --rebase` and the autostash that
  follows it, git swaps the sides, and the published one is %A. Every
  renumbered entry says so in its own text (`renumbered from #N at merge`),
  and the driver says so on stderr;
- an entry is never fused with another: two entries with one heading and
  different bodies are both kept whole, and in the ledger an entry both sides
  inserted byte for byte (two machines' same-day `attempt add` with one text)
  is two attempts, kept twice and renumbered like any other.

Anything else that both sides changed differently is a real conflict and gets
the usual conflict markers (git then reports the file as conflicted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from ledger.documents.states import STATE_TOKEN, RowState, StateVocabulary
from ledger.markdown.table import split_cells
from ledger.markdown.text import split_lines

BASE, OURS, THEIRS, BOTH = "base", "ours", "theirs", "both"

_CHECKLIST = re.compile(r"^(?P<lead>\s*[-*+]\s+)(?P<token>\[[^\[\]]{0,3}\])(?P<rest>.*)$")
# The start of the note `ledger do` writes at the end of a row (templates/guidance_note.md.j2).
_RUN_NOTE_START = re.compile(r"(?:✅|⚠️) \d{4}-\d{2}-\d{2} — ")
_RUN_NOTE_END = re.compile(r"Artifacts: \S*reports/\d{4}-\d{2}-\d{2}T\d{6}Z/\S*\s*$")
_ITEM_ATTEMPT_NUMBER = re.compile(r"(Attempt\s+#)(\d+)")
_GLOBAL_ATTEMPT_NUMBER = re.compile(r"(attempt\s+#)(\d+)", re.IGNORECASE)
# Which state wins when both sides set a row differently: the one needing attention.
_ATTENTION = {RowState.PARTIAL: 3, RowState.OPEN: 2, RowState.DONE: 1, None: 0}


@dataclass(frozen=True)
class _Hunk:
    o1: int
    o2: int
    s1: int
    s2: int
    side: str

    @property
    def is_insertion(self) -> bool:
        return self.o1 == self.o2


@dataclass
class MergeResult:
    text: str
    conflicts: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.conflicts == 0


def _lines(text: str) -> list[str]:
    return [line.text + line.eol for line in split_lines(text)]


def _hunks(base: list[str], side: list[str], name: str) -> list[_Hunk]:
    matcher = SequenceMatcher(None, base, side, autojunk=False)
    return [
        _Hunk(o1, o2, s1, s2, name)
        for tag, o1, o2, s1, s2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def _overlap(a: _Hunk, b: _Hunk) -> bool:
    if a.is_insertion and b.is_insertion:
        return a.o1 == b.o1
    if a.is_insertion:
        return b.o1 < a.o1 < b.o2
    if b.is_insertion:
        return a.o1 < b.o1 < a.o2
    return a.o1 < b.o2 and b.o1 < a.o2


def _clusters(hunks: list[_Hunk]) -> list[list[_Hunk]]:
    """Hunks grouped so that no group touches base lines another group touches."""
    ordered = sorted(hunks, key=lambda h: (h.o1, h.o2, h.side))
    clusters: list[list[_Hunk]] = []
    for hunk in ordered:
        if clusters:
            current = clusters[-1]
            if hunk.o1 < max(h.o2 for h in current) or any(_overlap(hunk, h) for h in current):
                current.append(hunk)
                continue
        clusters.append([hunk])
    return clusters


def merge_texts(
    base: str,
    ours: str,
    theirs: str,
    *,
    is_ledger: bool = False,
    vocabulary: StateVocabulary | None = None,
    marker_size: int = 7,
    labels: tuple[str, str] = ("ours", "theirs"),
    keep: str = OURS,
) -> MergeResult:
    """`keep`: the side (OURS or THEIRS) whose attempt numbers stand, because it is already
    published; its new entries come first and the other side's are renumbered to follow."""
    vocabulary = vocabulary or StateVocabulary()
    b, o, t = _lines(base), _lines(ours), _lines(theirs)
    sides = {OURS: o, THEIRS: t}
    out: list[tuple[str, str]] = []
    result = MergeResult("")
    position = 0
    for cluster in _clusters(_hunks(b, o, OURS) + _hunks(b, t, THEIRS)):
        start, end = min(h.o1 for h in cluster), max(h.o2 for h in cluster)
        out.extend((line, BASE) for line in b[position:start])
        position = end
        by_side = {name: [h for h in cluster if h.side == name] for name in sides}
        if not by_side[THEIRS] or not by_side[OURS]:
            name = OURS if by_side[OURS] else THEIRS
            out.extend(_side_version(b, sides[name], by_side[name], start, end, name))
            continue
        ours_version = _side_version(b, o, by_side[OURS], start, end, OURS)
        theirs_version = _side_version(b, t, by_side[THEIRS], start, end, THEIRS)
        identical = [line for line, _ in ours_version] == [line for line, _ in theirs_version]
        if identical and not (is_ledger and _inserts_entry(ours_version)):
            out.extend((line, BOTH) for line, _ in ours_version)
            continue
        resolved = _resolve(b, o, t, by_side, start, end, vocabulary, result.notes, keep, is_ledger)
        if resolved is not None:
            out.extend(resolved)
            continue
        result.conflicts += 1
        out.extend(_markers(ours_version, theirs_version, marker_size, labels))
    out.extend((line, BASE) for line in b[position:])
    if is_ledger and not result.conflicts:
        out = _renumber_incoming(out, result.notes, renumbered=THEIRS if keep == OURS else OURS)
    result.text = "".join(line for line, _ in out)
    return result


def _side_version(b, side, hunks, start, end, name):
    version: list[tuple[str, str]] = []
    cursor = start
    for hunk in sorted(hunks, key=lambda h: (h.o1, h.o2)):
        version.extend((line, BASE) for line in b[cursor : hunk.o1])
        version.extend((line, name) for line in side[hunk.s1 : hunk.s2])
        cursor = hunk.o2
    version.extend((line, BASE) for line in b[cursor:end])
    return version


def _markers(ours_version, theirs_version, size, labels):
    def closed(lines):
        lines = [line for line, _ in lines]
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"
        return lines

    out = [(f"{'<' * size} {labels[0]}\n", OURS)]
    out += [(line, OURS) for line in closed(ours_version)]
    out.append(("=" * size + "\n", BOTH))
    out += [(line, THEIRS) for line in closed(theirs_version)]
    out.append((f"{'>' * size} {labels[1]}\n", THEIRS))
    return out


# ---------------------------------------------------------------- resolution


@dataclass
class _Slots:
    """One side's edits of a base range: insertions per gap, 1:1 line replacements."""

    inserted: dict[int, list[str]] = field(default_factory=dict)
    replaced: dict[int, str] = field(default_factory=dict)


def _slots(side: list[str], hunks: list[_Hunk]) -> _Slots | None:
    slots = _Slots()
    for hunk in hunks:
        old, new = hunk.o2 - hunk.o1, hunk.s2 - hunk.s1
        if new < old:
            return None  # a side deleted lines the other side also touched
        for offset in range(old):
            slots.replaced[hunk.o1 + offset] = side[hunk.s1 + offset]
        if new > old:
            # Lines beyond the 1:1 replacements are read as appended after them.
            slots.inserted.setdefault(hunk.o2, []).extend(side[hunk.s1 + old : hunk.s2])
    return slots


def _resolve(
    b, o, t, by_side, start, end, vocabulary, notes, keep=OURS, is_ledger=False
) -> list[tuple[str, str]] | None:
    ours, theirs = _slots(o, by_side[OURS]), _slots(t, by_side[THEIRS])
    if ours is None or theirs is None:
        return None
    merged: list[tuple[str, str]] = []
    for index in range(start, end + 1):
        mine, other = ours.inserted.get(index, []), theirs.inserted.get(index, [])
        if keep == OURS:
            merged.extend(_merge_insertions(mine, other, is_ledger))
        else:  # the published side's entries first
            merged.extend(_swap(_merge_insertions(other, mine, is_ledger)))
        if index == end:
            break
        base_line = b[index]
        mine, other = ours.replaced.get(index, base_line), theirs.replaced.get(index, base_line)
        if mine == other:
            merged.append((mine, BASE if mine == base_line else BOTH))
        elif mine == base_line:
            merged.append((other, THEIRS))
        elif other == base_line:
            merged.append((mine, OURS))
        else:
            line = merge_line(base_line, mine, other, vocabulary)
            if line is None:
                return None
            notes.append(f"merged concurrent edits of line {index + 1}: {line.strip()[:60]}")
            merged.append((line, BOTH))
    return merged


_SECTION_START = re.compile(r"^ {0,3}#{1,6}\s")


def _starts_section(lines: list[str]) -> bool:
    first = next((line for line in lines if line.strip()), "")
    return bool(_SECTION_START.match(first))


def _swap(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Origins of a merge computed with the sides exchanged, put back."""
    flip = {OURS: THEIRS, THEIRS: OURS}
    return [(line, flip.get(origin, origin)) for line, origin in lines]


# The first line of one ledger entry: a global `### <date> — …` heading or an items-layout
# `* [date] Attempt #N` bullet.
_ENTRY_START = re.compile(
    r"^\s{0,3}(?:#{2,6}\s+\d{4}-\d{2}-\d{2}"
    r"|[*+-]\s+(?:\*\*)?\[\d{4}-\d{2}-\d{2}[^\]]*\](?:\*\*)?\s+(?:\*\*)?Attempt\s+#\d+)"
)


def _inserts_entry(version: list[tuple[str, str]]) -> bool:
    return any(origin != BASE and _ENTRY_START.match(line) for line, origin in version)


def _merge_insertions(
    mine: list[str], other: list[str], is_ledger: bool = False
) -> list[tuple[str, str]]:
    if not other:
        return [(line, OURS) for line in mine]
    if not mine:
        return [(line, THEIRS) for line in other]
    if mine == other and not (is_ledger and any(_ENTRY_START.match(line) for line in mine)):
        return [(line, BOTH) for line in mine]
    if _starts_section(mine) and not _starts_section(other):
        # Theirs continues the section above (an attempt for the last item);
        # ours opens a new one (a new item), so theirs must come first.
        return _merge_insertions_ordered(other, THEIRS, mine, OURS, is_ledger)
    return _merge_insertions_ordered(mine, OURS, other, THEIRS, is_ledger)


def _merge_insertions_ordered(
    first: list[str],
    first_origin: str,
    second: list[str],
    second_origin: str,
    is_ledger: bool = False,
):
    shared = 0
    while shared < min(len(first), len(second)) and first[shared] == second[shared]:
        shared += 1
    if is_ledger:
        # Both sides wrote these entries (each machine ran its own attempt): only what
        # precedes the first entry, such as a new item's heading, is written once.
        shared = next((i for i in range(shared) if _ENTRY_START.match(first[i])), shared)
    elif shared < len(first) and shared < len(second):
        # The sides part inside an entry whose first lines match (two machines' same-minute
        # headings): sharing those lines would put both bodies under one heading, one entry
        # lost. Each side keeps its whole entry.
        starts = [i for i in range(shared) if _ENTRY_START.match(first[i])]
        if starts:
            shared = starts[-1]
    # A shared blank line separates entries; each side's entry keeps its own.
    while shared and not first[shared - 1].strip():
        shared -= 1
    first_rest, second_rest = first[shared:], second[shared:]
    if first_rest and not first_rest[-1].endswith(("\n", "\r")):
        first_rest = [*first_rest[:-1], first_rest[-1] + "\n"]
    return (
        [(line, BOTH) for line in first[:shared]]
        + [(line, first_origin) for line in first_rest]
        + [(line, second_origin) for line in second_rest]
    )


def _split_eol(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body) :]


def merge_line(base: str, ours: str, theirs: str, vocabulary: StateVocabulary) -> str | None:
    """One line both sides changed: a table row, a checklist item, or two appends."""
    b, _ = _split_eol(base)
    o, eol = _split_eol(ours)
    t, _ = _split_eol(theirs)
    merged = _merge_table_row(b, o, t, vocabulary)
    if merged is None:
        merged = _merge_checklist(b, o, t, vocabulary)
    if merged is None:
        merged = _merge_appends(b, o, t)
    return None if merged is None else merged + eol


def _merge_appends(b: str, o: str, t: str) -> str | None:
    """Both sides appended text to the same non-empty line: keep both additions."""
    stem = b.rstrip()
    if stem.strip() and o.startswith(stem) and t.startswith(stem):
        if t.rstrip().startswith(o.rstrip()):
            return t  # theirs already holds our addition and more
        if o.rstrip().startswith(t.rstrip()):
            return o
        return o.rstrip() + t[len(stem) :].rstrip() + o[len(o.rstrip()) :]
    return None


def _merge_run_notes(b: str, o: str, t: str) -> str | None:
    """Both sides ran the row: each replaced the base's closing run note with its own.
    Keep both new notes (ours first); anything else changed differently stays a conflict."""

    def split(text: str) -> tuple[str, str] | None:
        starts = [m.start() for m in _RUN_NOTE_START.finditer(text)]
        if not starts or not _RUN_NOTE_END.search(text, starts[-1]):
            return None
        return text[: starts[-1]], text[starts[-1] :]

    base, ours, theirs = (split(x) for x in (b, o, t))
    if base is None or ours is None or theirs is None or not base[0] == ours[0] == theirs[0]:
        return None
    their_note = theirs[1].strip()
    return o.rstrip() + " " + their_note + o[len(o.rstrip()) :]


def _merge_state(b: str, o: str, t: str, vocabulary: StateVocabulary) -> str | None:
    """Cell or token text whose only content is a state token."""
    base, ours, theirs = (STATE_TOKEN.search(x) for x in (b, o, t))
    if (
        base is None
        or ours is None
        or theirs is None
        or any(STATE_TOKEN.sub("", x).strip(" `*_") for x in (b, o, t))
    ):
        return None
    states = [vocabulary.classify(token.group()) for token in (ours, theirs)]
    return o if _ATTENTION[states[0]] >= _ATTENTION[states[1]] else t


def _merge_table_row(b: str, o: str, t: str, vocabulary: StateVocabulary) -> str | None:
    base_cells, our_cells, their_cells = (split_cells(x) for x in (b, o, t))
    if base_cells is None or our_cells is None or their_cells is None:
        return None
    if not len(base_cells) == len(our_cells) == len(their_cells):
        return None
    pieces: list[tuple[int, int, str]] = []
    for bc, oc, tc in zip(base_cells, our_cells, their_cells, strict=True):
        if tc.raw == bc.raw or oc.raw == tc.raw:
            continue
        if oc.raw == bc.raw:
            pieces.append((oc.start, oc.end, tc.raw))
            continue
        value = _merge_state(bc.raw, oc.raw, tc.raw, vocabulary)
        if value is None and not bc.text:
            value = f" {oc.text} {tc.text} "  # both filled an empty cell
        if value is None:
            value = _merge_appends(bc.raw, oc.raw, tc.raw)
        if value is None:
            value = _merge_run_notes(bc.raw, oc.raw, tc.raw)
        if value is None:
            return None
        pieces.append((oc.start, oc.end, value))
    line = o
    for start, end, text in sorted(pieces, reverse=True):
        line = line[:start] + text + line[end:]
    return line


def _merge_checklist(b: str, o: str, t: str, vocabulary: StateVocabulary) -> str | None:
    mb, mo, mt = (_CHECKLIST.match(x) for x in (b, o, t))
    if mb is None or mo is None or mt is None:
        return None
    if mo.group("lead") != mb.group("lead") or mt.group("lead") != mb.group("lead"):
        return None
    token = _pick(mb.group("token"), mo.group("token"), mt.group("token"))
    if token is None:
        token = _merge_state(mb.group("token"), mo.group("token"), mt.group("token"), vocabulary)
    rest = _pick(mb.group("rest"), mo.group("rest"), mt.group("rest"))
    if rest is None:
        rest = _merge_appends(mb.group("rest"), mo.group("rest"), mt.group("rest"))
    if rest is None:
        rest = _merge_run_notes(mb.group("rest"), mo.group("rest"), mt.group("rest"))
    if token is None or rest is None:
        return None
    return mb.group("lead") + token + rest


def _pick(base: str, ours: str, theirs: str) -> str | None:
    if ours == theirs or theirs == base:
        return ours
    if ours == base:
        return theirs
    return None


# ---------------------------------------------------------------- attempt numbers


def _renumber_incoming(
    out: list[tuple[str, str]], notes: list[str], renumbered: str = THEIRS
) -> list[tuple[str, str]]:
    """Give the `renumbered` side's new attempts the numbers after the other side's, per
    initiative, when their numbers collide; each one's text then says what it was."""
    from ledger.documents.fix_plan import LedgerLayout, parse_ledger
    from ledger.markdown.text import SourceText

    text = "".join(line for line, _ in out)
    # The merged text is not a file: the path is only a label (nothing here reads it).
    doc = parse_ledger(SourceText(Path("<merged ledger>"), text, ""))
    origin = [o for _, o in out]
    lines = [line for line, _ in out]
    groups: dict[str, list] = {}
    for attempt in doc.all_attempts():
        groups.setdefault(attempt.initiative, []).append(attempt)
    pattern = _GLOBAL_ATTEMPT_NUMBER if doc.layout == LedgerLayout.GLOBAL else _ITEM_ATTEMPT_NUMBER
    for initiative, attempts in groups.items():
        numbered = []
        for attempt in attempts:
            match = pattern.search(lines[attempt.line - 1])
            if match:
                numbered.append(
                    (attempt.line - 1, int(match.group(2)), origin[attempt.line - 1] == renumbered)
                )
        incoming = [(index, number) for index, number, is_theirs in numbered if is_theirs]
        kept = [number for _, number, is_theirs in numbered if not is_theirs]
        if not incoming or not kept:
            continue
        if not set(number for _, number in incoming) & set(kept):
            continue  # no collision (say, a pre-assigned number above the other side's)
        offset = max(kept) - min(number for _, number in incoming) + 1
        if offset <= 0:
            continue
        for index, number in incoming:
            lines[index] = _renumbered_line(
                lines[index], pattern, number, number + offset, doc.layout == LedgerLayout.GLOBAL
            )
            notes.append(
                f"{initiative}: attempt #{number} renumbered #{number + offset} "
                f"(to follow the other side's attempts, up to #{max(kept)}); update text that cites #{number}"
            )
    return list(zip(lines, origin, strict=True))


def _renumbered_line(line: str, pattern: re.Pattern, old: int, new: int, is_global: bool) -> str:
    """The entry's first line with its number changed and a note saying from what, so text
    elsewhere that cites the old number can be traced."""
    note = f"renumbered from #{old} at merge"
    match = pattern.search(line)
    assert match is not None  # the caller found the number with this pattern
    if is_global:
        body, eol = _split_eol(line)
        label_end = body.rstrip().rfind(")")
        if label_end >= match.end():
            body = body[:label_end] + f", {note}" + body[label_end:]
            line = body + eol
        return pattern.sub(lambda m: f"{m.group(1)}{new}", line, count=1)
    return line[: match.start()] + f"{match.group(1)}{new} ({note})" + line[match.end() :]


# ---------------------------------------------------------------- files


def is_ledger_path(path: str | None, configured: str | None = None) -> bool:
    if not path:
        return False
    normalised = path.replace("\\", "/").lstrip("./")
    return normalised == configured or normalised.rsplit("/", 1)[-1] == "fix_plan.md"


MERGE, REBASE = "merge", "rebase"


def git_operation(environ=None, cwd=None) -> str:
    """Which git operation runs the driver, and so which side is already published.

    MERGE (`git merge`, `git pull --no-rebase`): %A is the local branch, %B the upstream.
    REBASE (`git rebase`, `git pull --rebase`, its autostash, `git stash pop`,
    `cherry-pick`): %A is the upstream (HEAD, already published) and %B the local commit
    or change being replayed onto it."""
    import os
    import subprocess

    environ = os.environ if environ is None else environ
    try:
        git_dir = subprocess.run(
            ["git", "rev-parse", "--git-dir"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        git_dir = None
    if git_dir:
        from pathlib import Path

        folder = Path(cwd or ".") / git_dir
        if (folder / "rebase-merge").is_dir() or (folder / "rebase-apply").is_dir():
            return REBASE
    action = environ.get("GIT_REFLOG_ACTION", "")
    if action.startswith("merge") or (action.startswith("pull") and "--rebase" not in action):
        return MERGE
    return REBASE


def merge_files(
    base_path,
    current_path,
    other_path,
    path: str | None,
    marker_size: int = 7,
    settings_root=None,
    operation: str | None = None,
) -> MergeResult:
    """Merge the three files git hands a driver, writing the result over `current_path`.

    `operation`: MERGE or REBASE (see `git_operation`, which decides when it is None)."""
    from pathlib import Path

    from ledger.config import load_config
    from ledger.editing.writes import write_bytes_atomic
    from ledger.errors import LedgerError
    from ledger.markdown.text import decode_markdown

    texts = [
        decode_markdown(Path(p).read_bytes(), Path(p))
        for p in (base_path, current_path, other_path)
    ]
    try:
        # Git runs drivers at the top of the work tree, where the settings live.
        config = load_config(Path(settings_root) if settings_root else Path.cwd())
    except LedgerError:
        config = None
    result = merge_texts(
        *texts,
        is_ledger=is_ledger_path(path, config.ledger if config else None),
        vocabulary=config.states if config else None,
        marker_size=marker_size,
        labels=("ours", "theirs"),
        keep=THEIRS if (operation or git_operation(cwd=settings_root)) == MERGE else OURS,
    )
    if result.text != texts[1]:
        write_bytes_atomic(Path(current_path), result.text.encode("utf-8"))
    return result
