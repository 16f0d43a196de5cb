"""A YAML reader for untrusted stack files: bounded in time, memory and depth, and strict about structure.

Stack files arrive through pull requests and are read by the offline preview in CI, so a hostile one must end
in a clear error (exit 2), never in a traceback, a hang or gigabytes of memory. :func:`load` refuses, each with
the dotted path of the field and the line:

* **aliases** (``*name``): the only way a small YAML document grows without bound ("billion laughs") or refers
  to itself. Pulumi stack files have no use for them; write the value out instead. Anchors alone are harmless
  and accepted.
* **nesting** deeper than :data:`MAX_DEPTH` collections (the catalog needs about ten);
* **duplicate keys** in one mapping (Pulumi's own YAML parser refuses them too; PyYAML silently keeps the last);
* **non-string keys** (``1: x``, ``true: x``, ``null: x``, ``[a]: x``): config keys and catalog fields are strings;
* **tags** other than the core schema's (``!!python/object``, ``!!binary``, ``!!set``, custom ``!tags``);
* **non-UTF-8** bytes, more than one document, more than :data:`MAX_NODES` nodes, files over :data:`MAX_BYTES`.

Values are built in one pass over PyYAML's event stream (no node graph, no recursion, no alias ever
expanded) with the core schema's scalar rules, so accepted documents read exactly as ``yaml.safe_load`` reads
them. libyaml (PyYAML's C parser) is used when available: about a second for a 1 MiB stack file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

#: Largest stack file read, in bytes (10 MiB: a 200-image catalog is about 0.3 MiB).
MAX_BYTES = 10 * 1024 * 1024
#: Deepest nesting of mappings and sequences accepted (the catalog itself needs about ten levels).
MAX_DEPTH = 64
#: Most YAML nodes (scalars, mappings, sequences) in one document: 1 MiB of flow YAML holds ~350,000.
MAX_NODES = 2_000_000

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
#: Scalar tags of YAML's core schema, the ones a config value can carry.
_SCALARS = frozenset(
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "timestamp")
)


class YamlError(Exception):
    """Why a document was refused: ``path`` (dotted, ``""`` for the document), ``line`` (1-based, 0 when
    unknown) and ``message`` (what is wrong and what to write instead)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


def _line(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 0


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def decode(data: bytes) -> str:
    """``data`` as UTF-8 text; :class:`YamlError` naming the field and line of the first bad byte otherwise."""
    if len(data) > MAX_BYTES:
        raise YamlError("", 0, f"the file is {len(data)} bytes; at most {MAX_BYTES} are read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        # Parse a replacement-character copy to name the field holding the bad byte.
        at = len(data[: exc.start].decode("utf-8", errors="replace"))
        raise YamlError(
            _locate(data.decode("utf-8", errors="replace"), at),
            line,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
        ) from None


class _Frame:
    """One open collection on the event stream: a mapping (expecting a key or a value) or a sequence."""

    __slots__ = ("index", "is_map", "key", "want_key")

    def __init__(self, is_map: bool) -> None:
        self.is_map = is_map
        self.want_key = is_map
        self.key: str = "?"
        self.index = 0


def _path(frames: list[_Frame]) -> str:
    """The dotted path of the node about to be read (the value under the innermost open key or index)."""
    path = ""
    for frame in frames:
        path = _join(path, frame.key) if frame.is_map else _join(path, frame.index)
    return path


def _advance(frames: list[_Frame]) -> None:
    """A value (scalar, alias or whole collection) ended inside the innermost collection."""
    if frames:
        top = frames[-1]
        if top.is_map:
            top.want_key = True
        else:
            top.index += 1


def _events(text: str, frames: list[_Frame]) -> Iterator[yaml.Event]:
    """The node and collection-end events of ``text``, keeping ``frames`` (the open collections) current
    *before* each event is yielded; refuses aliases, deep nesting, too many nodes and broken YAML with the
    dotted path where they occur."""
    nodes = 0
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlError(
                        "",
                        _line(event.start_mark),
                        "more than one YAML document ('---'); a stack file is one",
                    )
            if not isinstance(event, (yaml.NodeEvent, yaml.CollectionEndEvent)):
                continue
            as_key = bool(frames) and frames[-1].is_map and frames[-1].want_key
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    raise YamlError(
                        _path(frames), _line(event.start_mark), f"more than {MAX_NODES} YAML nodes"
                    )
            if isinstance(event, yaml.AliasEvent):
                raise YamlError(
                    _path(frames[:-1]) if as_key else _path(frames),
                    _line(event.start_mark),
                    f"YAML alias *{event.anchor} is not accepted in a stack file (aliases can expand without "
                    "bound or refer to themselves); write the value out instead",
                )
            if isinstance(event, yaml.CollectionStartEvent) and len(frames) >= MAX_DEPTH:
                raise YamlError(
                    _path(frames),
                    _line(event.start_mark),
                    f"nesting deeper than {MAX_DEPTH} levels of mappings and sequences; flatten the value",
                )
            # Consumers see each event with ``frames`` as they were before it (its own path), then move on.
            yield event
            if isinstance(event, yaml.ScalarEvent):
                if as_key:
                    frames[-1].key = str(event.value)
                    frames[-1].want_key = False
                else:
                    _advance(frames)
            elif isinstance(event, yaml.CollectionStartEvent):
                if as_key:
                    frames[-1].key = "?"  # a collection as a key: refused by the consumer at this point
                    frames[-1].want_key = False
                frames.append(_Frame(isinstance(event, yaml.MappingStartEvent)))
            elif isinstance(event, yaml.CollectionEndEvent):
                frames.pop()
                _advance(frames)
    except yaml.YAMLError as exc:
        # Broken YAML, or hostile input libyaml refuses itself (flow nesting beyond 1000 levels, control
        # characters): say where it happened.
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        mark = getattr(exc, "problem_mark", None)
        raise YamlError(_path(frames), _line(mark), f"not valid YAML: {problem}") from None


def _locate(text: str, index: int) -> str:
    """The dotted path of the field whose text holds character ``index`` (best effort: ``""`` when the text
    cannot be followed that far)."""
    frames: list[_Frame] = []
    try:
        for event in _events(text, frames):
            start = event.start_mark.index if event.start_mark is not None else 0
            end = event.end_mark.index if event.end_mark is not None else start
            if isinstance(event, yaml.ScalarEvent) and start <= index <= end:
                key_here = bool(frames) and frames[-1].is_map and frames[-1].want_key
                return _path(frames[:-1]) if key_here else _path(frames)
            if start > index:
                return _path(frames)
    except YamlError as problem:
        return problem.path
    return ""


def _tag(event: yaml.ScalarEvent | yaml.CollectionStartEvent, loader: yaml.SafeLoader) -> str:
    """The resolved tag of a node event, as the composer would give it (implicit resolution for plain
    scalars, ``!`` for quoted ones: both core-schema rules)."""
    if event.tag is not None and event.tag != "!":
        return str(event.tag)
    if isinstance(event, yaml.ScalarEvent):
        return str(loader.resolve(yaml.ScalarNode, event.value, event.implicit))
    kind = yaml.MappingNode if isinstance(event, yaml.MappingStartEvent) else yaml.SequenceNode
    return str(loader.resolve(kind, None, event.implicit))


def _not_a_key(path: str, event: yaml.Event, tag: str, shown: str) -> YamlError:
    return YamlError(
        path,
        _line(event.start_mark),
        f"key {shown!r} is not a string (YAML reads it as {tag.rsplit(':', 1)[-1]}); keys must be strings, "
        "quote it if it is meant as one",
    )


def load(text: str) -> Any:
    """The single document in ``text`` as plain dicts, lists and scalars, built in one pass over the event
    stream (no node graph, so no alias can be expanded). :class:`YamlError` (with the dotted path and line)
    when it breaks a rule of this module or is not YAML at all. An empty document is ``None``."""
    frames: list[_Frame] = []
    values: list[dict[str, Any] | list[Any]] = []
    root: Any = None
    loader = _Loader("")
    try:
        for event in _events(text, frames):
            as_key = bool(frames) and frames[-1].is_map and frames[-1].want_key
            if isinstance(event, yaml.CollectionEndEvent):
                finished = values.pop()
                if not values:
                    root = finished
                continue
            assert isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent))
            tag = _tag(event, loader)
            if as_key:
                mapping_path = _path(frames[:-1])
                if isinstance(event, yaml.CollectionStartEvent):
                    raise _not_a_key(mapping_path, event, tag, f"a {tag.rsplit(':', 1)[-1]}")
                if tag != _STR:
                    raise _not_a_key(mapping_path, event, tag, str(event.value))
                parent = values[-1]
                assert isinstance(parent, dict)
                if event.value in parent:
                    raise YamlError(
                        _join(mapping_path, event.value),
                        _line(event.start_mark),
                        f"duplicate key {event.value!r} in one mapping (the Pulumi CLI refuses it too); keep one",
                    )
                parent[event.value] = None  # claimed; the value replaces it
                continue
            path = _path(frames)
            value: Any
            if isinstance(event, yaml.ScalarEvent):
                if tag not in _SCALARS:
                    raise YamlError(
                        path,
                        _line(event.start_mark),
                        f"the YAML tag {tag} is not accepted; write a plain string, number, boolean or null",
                    )
                node = yaml.ScalarNode(tag, event.value, style=event.style)
                try:
                    value = loader.yaml_constructors[tag](loader, node)
                except (ValueError, OverflowError, yaml.YAMLError) as exc:  # e.g. the date 2024-13-45
                    raise YamlError(
                        path, _line(event.start_mark), f"{event.value!r} cannot be read as {tag}: {exc}"
                    ) from None
            else:
                if tag not in (_MAP, _SEQ):
                    raise YamlError(path, _line(event.start_mark), f"the YAML tag {tag} is not accepted")
                value = {} if tag == _MAP else []
            if values:
                parent = values[-1]
                if isinstance(parent, dict):
                    parent[frames[-1].key] = value
                else:
                    parent.append(value)
            elif isinstance(event, yaml.ScalarEvent):
                root = value
            if isinstance(event, yaml.CollectionStartEvent):
                values.append(value)
    finally:
        loader.dispose()
    return root
