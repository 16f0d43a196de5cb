"""Read engine properties the way CrossGuard hands them over: proxies, not dicts and lists.

``args.props`` is a ``Mapping`` proxy whose nested values are ``Mapping``/``Sequence`` proxies; touching a value
that is unknown during preview raises the SDK's ``UnknownValueError``. Even ``key in props`` and ``.items()`` touch
values, so every read here goes through :class:`Props`, which

* returns ``None`` for an absent key or a value of the wrong shape (engine props may be anything),
* returns :data:`UNKNOWN` for a value that is unknown during preview and remembers the SDK's exception.

A rule therefore reports every violation it can *prove* from known values, skips what it cannot know, and the
policy wrapper re-raises the remembered ``UnknownValueError`` afterwards so the SDK reports its usual advisory
"can't run policy ... during preview" note. Only that one exception type is caught; nothing broad.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import UnknownValueError


class _Unknown:
    """Marker for a value that is not known during preview."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


#: Returned instead of a value that is unknown during preview.
UNKNOWN: Final = _Unknown()


def is_mapping(value: Any) -> bool:
    """True for dicts and the SDK's mapping proxies."""
    return isinstance(value, Mapping)


def is_sequence(value: Any) -> bool:
    """True for lists and the SDK's list proxies (strings and bytes are not sequences of values here)."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def plain(value: Any) -> Any:
    """``value`` with the SDK's mapping and list proxies turned into dicts and lists, recursively (a proxy's own
    repr is a memory address); an unknown nested value becomes :data:`UNKNOWN`."""
    try:
        if is_mapping(value):
            return {k: plain(v) for k, v in value.items()}
        if is_sequence(value):
            return [plain(v) for v in value]
    except UnknownValueError:
        return UNKNOWN
    return value


def shown(value: Any) -> str:
    """``value`` as a message shows it: the ``repr`` of its plain data (``['scsi0']``, ``{'a': 1.0}``, ``'x'``)."""
    return repr(plain(value))


class Props:
    """Unknown-aware reader over one resource's properties (see module docstring)."""

    def __init__(self, root: Any) -> None:
        self.root: Any = root if is_mapping(root) else {}
        self._unknown: UnknownValueError | None = None

    # -- low level -----------------------------------------------------------------------------------------
    def _note(self, error: UnknownValueError) -> _Unknown:
        if self._unknown is None:
            self._unknown = error
        return UNKNOWN

    def get(self, obj: Any, *path: str | int) -> Any:
        """Walk ``path`` from ``obj``: keys into mappings, ints into sequences; ``None`` when absent."""
        cur = obj
        for step in path:
            if cur is UNKNOWN:
                return UNKNOWN
            if isinstance(step, str):
                if not is_mapping(cur):
                    return None
                try:
                    cur = cur[step]
                except KeyError:
                    return None
                except UnknownValueError as error:
                    return self._note(error)
            else:
                if not is_sequence(cur) or not -len(cur) <= step < len(cur):
                    return None
                try:
                    cur = cur[step]
                except UnknownValueError as error:
                    return self._note(error)
        return cur

    def __call__(self, *path: str | int) -> Any:
        """Read ``path`` from the resource's root properties."""
        return self.get(self.root, *path)

    def items(self, obj: Any) -> list[Any]:
        """Elements of a sequence (unknown elements become :data:`UNKNOWN`); ``[]`` for anything else."""
        if not is_sequence(obj):
            return []
        return [self.get(obj, i) for i in range(len(obj))]

    def entries(self, obj: Any) -> list[tuple[Any, Any]]:
        """``(key, value)`` pairs of a mapping (unknown values become :data:`UNKNOWN`); ``[]`` otherwise."""
        if not is_mapping(obj):
            return []
        return [(key, self.get(obj, key)) for key in list(iter(obj))]

    def strings(self, obj: Any) -> list[Any]:
        """Elements of a sequence that are strings or :data:`UNKNOWN`; a lone string counts as one element."""
        if isinstance(obj, str):
            return [obj]
        return [v for v in self.items(obj) if isinstance(v, str) or v is UNKNOWN]

    # -- wrap up -------------------------------------------------------------------------------------------
    @property
    def saw_unknown(self) -> bool:
        """True when some value this rule needed was unknown."""
        return self._unknown is not None

    def finish(self) -> None:
        """Re-raise the first ``UnknownValueError`` seen so the SDK reports its preview note."""
        if self._unknown is not None:
            raise self._unknown


def text(value: Any) -> str | None:
    """``value`` when it is a non-blank string, else ``None``."""
    return value if isinstance(value, str) and value.strip() else None
