"""Pure parser for MITRE ATLAS's ``dist/ATLAS.yaml``: bytes in, plain dataclasses out (no ORM).

The file is uploaded or fetched, so it is treated as hostile until proven otherwise:

* a size cap is checked before any parsing;
* the loader builds only strings, lists, mappings and null (every other tag, including
  ``!!python/...``, is refused), and plain scalars stay the text as written: ATLAS has no
  numeric, boolean or date fields, and YAML 1.1 implicit typing would turn ``2022-01-24`` into a
  ``date`` (or crash on ``2022-13-45``), ``5.10`` into ``5.1`` and ``no`` into ``False``;
* aliases are priced at the size of what they expand to while the document is composed, so a
  billion-laughs file is refused after a few dozen nodes instead of after exhausting memory;
* the resulting structure is checked field by field, and every failure is an ``AtlasFormatError``
  that names the offending object and field.

Known quirks of the real file (see ``shared/knowledge/ai-model-theft.md`` section (e)) are
repaired and reported in ``AtlasData.notes`` rather than refused.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from yaml import YAMLError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, Event
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

MAX_BYTES = 50 * 1024 * 1024
MAX_EXPANDED_NODES = 2_000_000  # the real file has about 10,000 nodes
MAX_DEPTH = 64  # the real file nests 7 deep; the cap also keeps the composer off the recursion limit

TACTIC_ID = re.compile(r"AML\.TA\d{4}")
TECHNIQUE_ID = re.compile(r"AML\.T\d{4}(?:\.\d{3})?")
MITIGATION_ID = re.compile(r"AML\.M\d{4}")
CASE_STUDY_ID = re.compile(r"AML\.CS\d{4}")

_NULL = "tag:yaml.org,2002:null"
_KEPT_TAGS = (_NULL, "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


class AtlasFormatError(ValueError):
    """The input is not a usable ATLAS data file; the message says why, for a person to read."""


@dataclass(frozen=True, slots=True)
class Tactic:
    atlas_id: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Technique:
    """A technique; a sub-technique has ``parent_id`` and inherits the parent's tactics."""

    atlas_id: str
    name: str
    description: str
    maturity: str
    parent_id: str | None
    tactic_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mitigation:
    atlas_id: str
    name: str
    description: str
    category: str
    technique_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaseStudy:
    """An ATLAS case study (AML.CSnnnn): only its id and name are kept, not its summary or procedure."""

    atlas_id: str
    name: str


@dataclass(frozen=True, slots=True)
class AtlasData:
    version: str
    tactics: tuple[Tactic, ...]
    techniques: tuple[Technique, ...]
    mitigations: tuple[Mitigation, ...]
    notes: tuple[str, ...]  # quirks that were repaired, for the import report
    case_studies: tuple[CaseStudy, ...] = ()


# --- Loading ---------------------------------------------------------------------------------


class _PlainResolver(Resolver):
    """Resolve plain scalars to str (or null) only; see the module docstring for why."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag == _NULL]
        for first, entries in Resolver.yaml_implicit_resolvers.items()
    }


class _PlainConstructor(SafeConstructor):
    """SafeConstructor restricted to the four node kinds ATLAS uses; any other tag is refused."""

    yaml_constructors = {tag: SafeConstructor.yaml_constructors[tag] for tag in _KEPT_TAGS} | {
        None: SafeConstructor.construct_undefined
    }


class _GuardedComposer(Composer):
    """Composer that prices every node by its expanded size and refuses bombs and deep nesting."""

    def __init__(self) -> None:
        super().__init__()
        self._weights: dict[int, int] = {}
        self._depth = 0

    if TYPE_CHECKING:  # provided by the event source this composer is mixed with

        def check_event(self, *choices: type[Event]) -> bool: ...
        def peek_event(self) -> Event: ...

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            anchor = cast(AliasEvent, self.peek_event()).anchor
            target = self.anchors.get(anchor)
            if isinstance(target, SequenceNode | MappingNode) and id(target) not in self._weights:
                raise AtlasFormatError(f"Refused: alias *{anchor} refers to itself (a recursive structure).")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise AtlasFormatError(f"Refused: the YAML nests deeper than {MAX_DEPTH} levels.")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, SequenceNode):
            children: list[Node] = node.value
        elif isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            return node  # a scalar weighs 1; only collections are recorded, to keep the table small
        weight = 1 + sum(self._weights.get(id(child), 1) for child in children)
        if weight > MAX_EXPANDED_NODES:
            raise AtlasFormatError(
                f"Refused: the YAML expands to more than {MAX_EXPANDED_NODES:,} nodes "
                "(aliases multiplying content, as in a 'billion laughs' file)."
            )
        self._weights[id(node)] = weight
        return node


try:  # libyaml scans about 8x faster; the Python pipeline below is the same grammar.
    from yaml._yaml import CParser as _EventSource
except ImportError:  # pragma: no cover - PyYAML built without libyaml

    class _EventSource(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: bytes) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _AtlasLoader(_GuardedComposer, _EventSource, _PlainConstructor, _PlainResolver):
    def __init__(self, stream: bytes) -> None:
        _EventSource.__init__(self, stream)
        _GuardedComposer.__init__(self)
        _PlainConstructor.__init__(self)
        _PlainResolver.__init__(self)


def load_yaml(data: bytes) -> Any:
    """Parse one YAML document with the guards above; every failure is an AtlasFormatError."""
    if not isinstance(data, bytes | bytearray):
        raise AtlasFormatError("Expected the file's bytes.")
    if len(data) > MAX_BYTES:
        raise AtlasFormatError(f"Refused: the file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if not data.strip():
        raise AtlasFormatError("The file is empty.")
    try:
        loader = _AtlasLoader(bytes(data))  # the pure-Python reader already decodes here
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except YAMLError as exc:
        raise AtlasFormatError(f"Not a valid YAML file: {exc}") from None
    except RecursionError:
        raise AtlasFormatError("Refused: the YAML is nested too deeply.") from None


# --- Structure -------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    """A short type name for error messages (never a repr: values may be huge or hostile)."""
    names = {dict: "a mapping", list: "a list", str: "a string", type(None): "empty"}
    return names.get(type(value), type(value).__name__)


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = True, max_length: int = 0) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise AtlasFormatError(f"{where}: missing '{key}'.")
        return ""
    if not isinstance(value, str):
        raise AtlasFormatError(f"{where}: '{key}' should be a string, found {_kind(value)}.")
    value = value.strip()
    if max_length and len(value) > max_length:
        raise AtlasFormatError(f"{where}: '{key}' is longer than {max_length} characters.")
    return value


def _list(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> list[Any]:
    value = obj.get(key)
    if value is None:
        if required:
            raise AtlasFormatError(f"{where}: missing '{key}' (a list).")
        return []
    if not isinstance(value, list):
        raise AtlasFormatError(f"{where}: '{key}' should be a list, found {_kind(value)}.")
    return value


def _objects(
    container: dict[str, Any],
    key: str,
    id_pattern: re.Pattern[str],
    *,
    noun: str = "",
    where_container: str = "ATLAS matrix",
    required: bool = True,
) -> list[tuple[str, dict[str, Any]]]:
    """The ``(id, mapping)`` pairs of one section, ids checked for shape and uniqueness."""
    pairs: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, obj in enumerate(_list(container, key, where_container, required=required)):
        where = f"{key}[{index}]"
        if not isinstance(obj, dict):
            raise AtlasFormatError(f"{where} should be a mapping, found {_kind(obj)}.")
        atlas_id = _text(obj, "id", where)
        if not id_pattern.fullmatch(atlas_id):
            raise AtlasFormatError(f"{where}: id {atlas_id[:40]!r} is not an ATLAS {noun or key[:-1]} id.")
        if atlas_id in seen:
            raise AtlasFormatError(f"{where}: id {atlas_id} appears twice.")
        seen.add(atlas_id)
        pairs.append((atlas_id, obj))
    return pairs


def _ids(values: list[Any], where: str, key: str, known: set[str]) -> tuple[str, ...]:
    for value in values:
        if not isinstance(value, str) or value not in known:
            shown = value[:40] if isinstance(value, str) else _kind(value)
            raise AtlasFormatError(f"{where}: '{key}' refers to unknown id {shown!r}.")
    return tuple(dict.fromkeys(values))


def _link_id(entry: Any) -> str | None:
    """The technique id of a mitigation link (``{id: ..., use: ...}`` or a bare id), else None."""
    if isinstance(entry, dict):
        entry = entry.get("id")
    return entry if isinstance(entry, str) and TECHNIQUE_ID.fullmatch(entry) else None


def _matrix(document: Any) -> tuple[str, dict[str, Any]]:
    """The data version and the ATLAS matrix of a document known to be a mapping afterwards."""
    if not isinstance(document, dict):
        raise AtlasFormatError(f"Not an ATLAS data file: the top level is {_kind(document)}, not a mapping.")
    version = _text(document, "version", "ATLAS file", max_length=32)
    matrices = _list(document, "matrices", "ATLAS file", required=True)
    matrix = next((m for m in matrices if isinstance(m, dict) and m.get("id") == "ATLAS"), None)
    if matrix is None:
        raise AtlasFormatError("ATLAS file: 'matrices' has no mapping with id 'ATLAS'.")
    return version, matrix


def parse_atlas(data: bytes) -> AtlasData:
    """Parse and check an ATLAS data file; raise AtlasFormatError naming the first problem."""
    document = load_yaml(data)
    version, matrix = _matrix(document)
    notes: list[str] = []

    tactics = [
        Tactic(tid, _text(obj, "name", tid, max_length=200), _text(obj, "description", tid, required=False))
        for tid, obj in _objects(matrix, "tactics", TACTIC_ID)
    ]
    tactic_ids = {t.atlas_id for t in tactics}

    raw_techniques = _objects(matrix, "techniques", TECHNIQUE_ID)
    technique_ids = {tid for tid, _ in raw_techniques}
    parents: dict[str, str | None] = {}
    own_tactics: dict[str, tuple[str, ...]] = {}
    for tid, obj in raw_techniques:
        parent = _text(obj, "subtechnique-of", tid, required=False) or None
        if parent is not None and (parent not in technique_ids or not tid.startswith(parent + ".")):
            raise AtlasFormatError(f"{tid}: 'subtechnique-of' names {parent[:40]!r}, which is not its parent.")
        parents[tid] = parent
        own_tactics[tid] = _ids(_list(obj, "tactics", tid), tid, "tactics", tactic_ids)
    techniques = [
        Technique(
            atlas_id=tid,
            name=_text(obj, "name", tid, max_length=200),
            description=_text(obj, "description", tid, required=False),
            maturity=_text(obj, "maturity", tid, required=False, max_length=32),
            parent_id=parents[tid],
            # Sub-techniques list no tactics in ATLAS; they sit under their parent's.
            tactic_ids=own_tactics[tid] or own_tactics.get(parents[tid] or "", ()),
        )
        for tid, obj in raw_techniques
    ]

    mitigations: list[Mitigation] = []
    for mid, obj in _objects(matrix, "mitigations", MITIGATION_ID):
        links = [_link_id(entry) or entry for entry in _list(obj, "techniques", mid)]
        # Quirk: a {id, use} technique link filed under 'ml-lifecycle' (a list of stage names).
        for entry in _list(obj, "ml-lifecycle", mid):  # stage names are not stored; only links are salvaged
            if not isinstance(entry, str) and (link := _link_id(entry)):
                links.append(link)
                notes.append(f"{mid}: technique link {link} found in 'ml-lifecycle'; kept as a link.")
        unique = _ids(links, mid, "techniques", technique_ids)
        for link in sorted(link for link, n in Counter(links).items() if n > 1):
            notes.append(f"{mid}: technique {link} linked more than once; kept once.")
        categories = _list(obj, "category", mid)
        if not all(isinstance(c, str) for c in categories):
            raise AtlasFormatError(f"{mid}: 'category' should be a list of strings.")
        category = ", ".join(c.strip() for c in categories)
        if len(category) > 100:
            raise AtlasFormatError(f"{mid}: 'category' is longer than 100 characters.")
        name = _text(obj, "name", mid, max_length=200)
        mitigations.append(Mitigation(mid, name, _text(obj, "description", mid, required=False), category, unique))

    # Case studies sit beside the matrices, at the top level; older exports and small test files
    # have none, so the section is optional.
    case_studies = tuple(
        CaseStudy(cid, _text(obj, "name", cid, max_length=200))
        for cid, obj in _objects(
            document, "case-studies", CASE_STUDY_ID, noun="case study", where_container="ATLAS file", required=False
        )
    )
    return AtlasData(version, tuple(tactics), tuple(techniques), tuple(mitigations), tuple(notes), case_studies)
