"""A YAML reader for untrusted stack files: bounded in time, memory and depth, and strict about structure.

Stack files arrive through pull requests and are read by the offline preview in CI, so a hostile one must end
in a clear error (exit 2), never in a traceback, a hang or gigabytes of memory. :func:`load` refuses, each with
the dotted path of the field and the line:

* **aliases** (``*name``): the only way a small YAML document grows without bound ("billion laughs") or refers
  to itself. Pulumi stack files have no use for them; write the value out instead. Anchors alone are harmless
  and accepted.
* **nesting** deeper than :data:`MAX_DEPTH` collections (the catalog needs about ten): checked on the event
  stream, before any recursive code runs;
* **duplicate keys** in one mapping (Pulumi's own YAML parser refuses them too; PyYAML silently keeps the last);
* **non-string keys** (``1: x``, ``true: x``, ``null: x``, ``[a]: x``): config keys and catalog fields are strings;
* **tags** other than the core schema's (``!!python/object``, ``!!binary``, ``!!set``, custom ``!tags``);
* **non-UTF-8** bytes, and files over :data:`MAX_BYTES`.

Parsing uses libyaml (PyYAML's C parser) when it is available, which keeps a 1 MiB stack file well under a
second; the pure-Python parser gives the same results.
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
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if not isinstance(event, (yaml.NodeEvent, yaml.CollectionEndEvent)):
                continue
            yield event
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    raise YamlError(
                        _path(frames), _line(event.start_mark), f"more than {MAX_NODES} YAML nodes"
                    )
            as_key = bool(frames) and frames[-1].is_map and frames[-1].want_key
            if isinstance(event, yaml.AliasEvent):
                raise YamlError(
                    _path(frames[:-1]) if as_key else _path(frames),
                    _line(event.start_mark),
                    f"YAML alias *{event.anchor} is not accepted in a stack file (aliases can expand without "
                    "bound or refer to themselves); write the value out instead",
                )
            if isinstance(event, yaml.ScalarEvent):
                if as_key:
                    frames[-1].key = str(event.value)
                    frames[-1].want_key = False
                else:
                    _advance(frames)
            elif isinstance(event, yaml.CollectionStartEvent):
                if as_key:
                    frames[-1].key = "?"  # a collection as a key: the builder refuses it with this path
                    frames[-1].want_key = False
                if len(frames) >= MAX_DEPTH:
                    raise YamlError(
                        _path(frames),
                        _line(event.start_mark),
                        f"nesting deeper than {MAX_DEPTH} levels of mappings and sequences; flatten the value",
                    )
                frames.append(_Frame(isinstance(event, yaml.MappingStartEvent)))
            elif isinstance(event, yaml.CollectionEndEvent):
                frames.pop()
                _advance(frames)
    except yaml.MarkedYAMLError as exc:
        # libyaml refuses some hostile input itself (flow nesting beyond 1000 levels); say where it happened.
        problem = " ".join(str(exc.problem or exc).split())
        raise YamlError(_path(frames), _line(exc.problem_mark), f"not valid YAML: {problem}") from None


def _check_events(text: str) -> None:
    """Run the event checks of :func:`_events` over the whole of ``text`` (iterative: no recursion, no alias
    expansion)."""
    for _ in _events(text, []):
        pass


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


class _Builder:
    """Builds Python values from a composed node tree, refusing what :mod:`yaml`'s safe constructor lets
    through (duplicate keys, non-string keys) with the path of the offending field."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self._constructor = loader

    def scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        if node.tag not in _SCALARS:
            raise YamlError(
                path,
                _line(node.start_mark),
                f"the YAML tag {node.tag} is not accepted; write a plain string, number, boolean or null",
            )
        return self._constructor.construct_object(node, deep=False)

    def build(self, node: yaml.Node, path: str) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise YamlError(path, _line(node.start_mark), f"the YAML tag {node.tag} is not accepted")
            return [self.build(item, _join(path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise YamlError(path, _line(node.start_mark), f"the YAML tag {node.tag} is not accepted")
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, path)
                if key in result:
                    raise YamlError(
                        _join(path, key),
                        _line(key_node.start_mark),
                        f"duplicate key {key!r} in one mapping (the Pulumi CLI refuses it too); keep one",
                    )
                result[key] = self.build(value_node, _join(path, key))
            return result
        raise YamlError(path, _line(node.start_mark), "unsupported YAML node")  # pragma: no cover

    def _key(self, node: yaml.Node, path: str) -> str:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            return str(node.value)
        shown = node.value if isinstance(node, yaml.ScalarNode) else f"a {type(node).__name__[:-4].lower()}"
        raise YamlError(
            path,
            _line(node.start_mark),
            f"key {shown!r} is not a string (YAML reads it as {node.tag.rsplit(':', 1)[-1]}); "
            "keys must be strings, quote it if it is meant as one",
        )


def load(text: str) -> Any:
    """The single document in ``text`` as plain dicts, lists and scalars; :class:`YamlError` when it breaks
    a rule of this module, ``yaml.YAMLError`` when it is not YAML at all. An empty document is ``None``."""
    _check_events(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _Builder(loader).build(node, "")
    finally:
        loader.dispose()
