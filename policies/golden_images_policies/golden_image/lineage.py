"""Layered images: a child platform component is judged through its golden parent chain.

A layered child (a platform component built from its golden parent's component of the same platform) registers
``goldenParent`` among its inputs and its outputs, plain strings only::

    {"image": "base-ubuntu", "version": "1.4.2", "fingerprint": "<parent's image fingerprint>",
     "encryption": "<the parent component's own level>", "parentImage": "<the chain root's vendor reference>",
     "registry": "<stack>"}          # optional: the parent is a recorded registry version, not in this stack

and every platform component registers the output ``lineage`` (``{"image", "version", "fingerprint",
"parentImage"}``: its own identity). The resource rules judge the child's own claim (``Analyze`` sees inputs);
the stack rules walk the chain actually present in the stack (``AnalyzeStack`` sees components' outputs):
parent components are found by type token, image name and version. An AWS child's ``parentImage`` is the
parent's Image Builder image ARN, unknown during a preview, so the chain is never judged from it.

**Encryption order.** ``none`` < ``platform-default`` < ``attested`` = ``verified`` = ``enforced``: the last
three are the levels prod accepts (:data:`~.components.PROD_ENCRYPTION_LEVELS`) and are different kinds of
evidence on different platforms, not steps of one scale, so they rank alike. A level the pack does not know
ranks below ``none`` (fail closed). A child's effective level is the lowest along its chain: a child above its
parent's level is judged at the parent's.

**Fail closed.** A ``goldenParent`` that is not a mapping, misses a key or holds a wrong type is a violation
of every rule here that reads it; a value unknown during preview is skipped (resource rules then report the
SDK's preview note, as everywhere in the pack).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi_policy import StackValidationArgs

from golden_images.core.rules import is_floating_reference, is_semver

from ..base import APPLY_EVERYWHERE_PROPERTY, ENVIRONMENT_PROPERTY, KIND, Ctx, stack_environment
from ..props import UNKNOWN, Props, is_mapping, shown, text
from ..registry import resource_policy, stack_policy
from .components import PLATFORM_COMPONENTS, PROD_ENCRYPTION_LEVELS

#: Rank of each encryption level (see the module docstring); unknown levels rank below every known one.
ENCRYPTION_RANK: Final[dict[str, int]] = {
    "none": 0,
    "platform-default": 1,
    "attested": 2,
    "verified": 2,
    "enforced": 2,
}
_UNRECOGNISED_RANK: Final = -1
#: The string keys every ``goldenParent`` carries; ``registry`` is optional.
GOLDEN_PARENT_KEYS: Final = ("image", "version", "fingerprint", "encryption", "parentImage")

#: Config of the prod-only stack rules (resource rules get the same through ``prod_only``).
_PROD_STACK_CONFIG: Final[dict[str, Any]] = {
    "environment": ENVIRONMENT_PROPERTY,
    "applyEverywhere": APPLY_EVERYWHERE_PROPERTY,
}
_SHAPE_FIX: Final = (
    "register goldenParent as a mapping of non-blank strings image, version (MAJOR.MINOR.PATCH), fingerprint, "
    f"encryption (one of {', '.join(ENCRYPTION_RANK)}) and parentImage, plus an optional registry, as the "
    "golden-images platform components do"
)


@dataclass(frozen=True)
class GoldenParent:
    """A well-formed ``goldenParent`` claim."""

    image: str
    version: str
    fingerprint: str
    encryption: str
    parent_image: str
    registry: str | None

    @property
    def ref(self) -> str:
        """``<image>@<version>``."""
        return f"{self.image}@{self.version}"


@dataclass(frozen=True)
class Claim:
    """What a component's ``goldenParent`` says: ``parent`` when well-formed, ``problem`` (completing "a
    goldenParent that …") when malformed,
    ``unknown`` when a part is unknown during preview; all empty for a component that is not layered."""

    parent: GoldenParent | None = None
    problem: str | None = None
    unknown: bool = False


def read_claim(props: Props) -> Claim:
    """Parse the component's ``goldenParent`` (absent: not layered)."""
    raw = props("goldenParent")
    if raw is None:
        return Claim()
    if raw is UNKNOWN:
        return Claim(unknown=True)
    if not is_mapping(raw):
        return Claim(problem=f"is {shown(raw)}, not a mapping")
    values: dict[str, str] = {}
    missing: list[str] = []
    wrong: list[str] = []
    unknown = False
    for key in (*GOLDEN_PARENT_KEYS, "registry"):
        value = props.get(raw, key)
        if value is UNKNOWN:
            unknown = True
        elif value is None:
            if key != "registry":
                missing.append(key)
        elif text(value) is None:
            wrong.append(f"{key} is {shown(value)}, not a non-blank string")
        else:
            values[key] = value
    version = values.get("version")
    if version is not None and not is_semver(version):
        wrong.append(f"version {version!r} is not MAJOR.MINOR.PATCH")
    level = values.get("encryption")
    if level is not None and level not in ENCRYPTION_RANK:
        wrong.append(f"encryption {level!r} is not a known level")
    details = ([f"missing {', '.join(missing)}"] if missing else []) + wrong
    if details:
        return Claim(problem=f"is malformed ({'; '.join(details)})")
    if unknown:
        return Claim(unknown=True)
    return Claim(
        parent=GoldenParent(
            image=values["image"],
            version=values["version"],
            fingerprint=values["fingerprint"],
            encryption=values["encryption"],
            parent_image=values["parentImage"],
            registry=values.get("registry"),
        )
    )


def rank(level: Any) -> int:
    """The rank of an encryption level (module docstring); anything unrecognised ranks lowest."""
    return ENCRYPTION_RANK.get(level, _UNRECOGNISED_RANK) if isinstance(level, str) else _UNRECOGNISED_RANK


def _malformed(label: str, problem: str, judged: str) -> str:
    return f"{label} registers a goldenParent that {problem}, so {judged} cannot be judged; {_SHAPE_FIX}."


# --- the child's own claim (Analyze: inputs) ------------------------------------------------------------------


@resource_policy(
    name="golden-image-platform-chain-pinned",
    description="In prod, a layered platform component's golden parent chain starts from an exactly pinned image.",
    concern="version",
    severity="high",
    types=PLATFORM_COMPONENTS,
    remediation=(
        "Pin the root image's parent (an AMI id, an exact marketplace or GCP image, a cloud image with its "
        "sha256; run 'golden-images pin' for AWS SSM parameters) and rebuild the chain."
    ),
    prod_only=True,
    extra_tags=("golden-image",),
)
def _chain_pinned(ctx: Ctx) -> Iterable[str]:
    claim = read_claim(ctx.props)
    if claim.problem is not None:
        yield _malformed(ctx.label, claim.problem, "whether its chain is pinned")
        return
    parent = claim.parent
    if parent is None or not is_floating_reference(parent.parent_image):
        return
    yield (
        f"{ctx.label} is built on golden parent {parent.ref}, whose chain starts from the floating parent "
        f"{parent.parent_image!r}, so the child is floating too and the prod image changes without a code "
        f"change; pin the root image's parent (run 'golden-images pin' for AWS SSM parameters) and rebuild."
    )


@resource_policy(
    name="golden-image-platform-chain-encryption-in-prod",
    description="In prod, a layered platform component's golden parent is encrypted with a customer key (or attested).",
    concern="encryption",
    severity="critical",
    types=PLATFORM_COMPONENTS,
    remediation=(
        "Configure the parent image's customer-managed key in the catalog so its component reports 'enforced' "
        "(or 'attested' for Proxmox), then rebuild the child from it."
    ),
    prod_only=True,
    extra_tags=("golden-image",),
)
def _chain_encryption(ctx: Ctx) -> Iterable[str]:
    claim = read_claim(ctx.props)
    if claim.problem is not None:
        yield _malformed(ctx.label, claim.problem, "its effective encryption level")
        return
    parent = claim.parent
    if parent is None or parent.encryption in PROD_ENCRYPTION_LEVELS:
        return
    own = ctx.props("encryption")
    effective = own if own is not UNKNOWN and rank(own) < rank(parent.encryption) else parent.encryption
    yield (
        f"{ctx.label} is built on golden parent {parent.ref}, which reports encryption {parent.encryption!r}; "
        f"a child is judged at the lowest level along its chain, so its effective level is {effective!r}; prod "
        f"images need a customer-managed key (or an attested datastore) along the whole chain: set the parent's "
        f"CMK settings in the catalog and rebuild the child."
    )


# --- the chain present in the stack (AnalyzeStack: components' outputs) -----------------------------------------


@dataclass
class _Node:
    """One platform component as the stack holds it."""

    urn: str
    type: str
    label: str
    image: Any
    version: Any
    fingerprint: Any
    encryption: Any
    parent_image: Any
    claim: Claim

    @property
    def ref(self) -> str:
        return f"{self.image}@{self.version}"


@dataclass
class _Walk:
    """A child's chain through the stack: the parents found, then how it ended."""

    parents: list[_Node] = field(default_factory=list)
    #: ``root`` (the last parent is not layered), ``claim`` (ended at a registry or missing parent: its claim
    #: stands for the rest), or ``stop`` (malformed, unknown or cyclic: not judged here).
    end: str = "root"
    last_claim: GoldenParent | None = None


def _nodes(resources: Sequence[Any]) -> list[_Node]:
    nodes: list[_Node] = []
    for resource in resources:
        if resource.resource_type not in PLATFORM_COMPONENTS:
            continue
        props = Props(resource.props)
        lineage = props("lineage")
        image, version = props.get(lineage, "image"), props.get(lineage, "version")
        parent_image = props.get(lineage, "parentImage")
        nodes.append(
            _Node(
                urn=resource.urn,
                type=resource.resource_type,
                label=f"{KIND.get(resource.resource_type, resource.resource_type)} '{resource.name}'",
                image=image if image is not None else props("imageName"),
                version=version if version is not None else props("version"),
                fingerprint=props.get(lineage, "fingerprint"),
                encryption=props("encryption"),
                parent_image=parent_image if parent_image is not None else props("parentImage"),
                claim=read_claim(props),
            )
        )
    return nodes


class _Stack:
    """The stack's platform components, indexed by (type, image, version)."""

    def __init__(self, resources: Sequence[Any]) -> None:
        self.nodes = _nodes(resources)
        self.index: dict[tuple[str, str, str], _Node] = {}
        #: Types with a component whose identity is unknown (a parent may hide behind it: never "missing").
        self.unknown_types: set[str] = set()
        for node in self.nodes:
            if isinstance(node.image, str) and isinstance(node.version, str):
                self.index.setdefault((node.type, node.image, node.version), node)
            else:
                self.unknown_types.add(node.type)

    def parent_of(self, node: _Node, claim: GoldenParent) -> _Node | None:
        return self.index.get((node.type, claim.image, claim.version))

    def walk(self, child: _Node) -> _Walk:
        walk = _Walk()
        current, seen = child, {child.urn}
        while True:
            claim = current.claim
            if claim.parent is None:
                if claim.problem is not None or claim.unknown:
                    walk.end = "stop"
                return walk
            walk.last_claim = claim.parent
            parent = None if claim.parent.registry is not None else self.parent_of(current, claim.parent)
            if parent is None:
                walk.end = "claim"
                return walk
            if parent.urn in seen:
                walk.end = "stop"
                return walk
            seen.add(parent.urn)
            walk.parents.append(parent)
            current = parent

    def layered(self) -> list[tuple[_Node, GoldenParent]]:
        return [(n, n.claim.parent) for n in self.nodes if n.claim.parent is not None]


def _chain_text(child: _Node, walk: _Walk) -> str:
    refs = [p.ref for p in walk.parents]
    last = walk.last_claim
    if walk.end == "claim" and last is not None:
        refs.append(last.ref if last.registry is None else f"{last.ref} (registry {last.registry})")
    return " → ".join(refs) if refs else child.ref


def _prod(config: Mapping[str, Any]) -> bool:
    return stack_environment(config) == "prod" or config.get("applyEverywhere") is True


def _root_reference(walk: _Walk) -> Any:
    """The chain root's vendor reference as the stack shows it (a registry or missing link: its claim)."""
    if walk.end == "root" and walk.parents:
        return walk.parents[-1].parent_image
    return walk.last_claim.parent_image if walk.last_claim is not None else None


def _prod_walks(
    args: StackValidationArgs, config: Mapping[str, Any]
) -> Iterator[tuple[_Node, GoldenParent, _Walk]]:
    """In prod (or with applyEverywhere), each layered component, its claim and its walk up the stack; walks
    that stop (a malformed, unknown or cyclic link: not judged here) are left out."""
    if not _prod(config):
        return
    stack = _Stack(args.resources)
    for child, claim in stack.layered():
        walk = stack.walk(child)
        if walk.end != "stop":
            yield child, claim, walk


@stack_policy(
    name="golden-image-stack-chain-pinned",
    description=(
        "In prod, every layered platform component's chain in the stack starts from a pinned image and matches "
        "what the child claims."
    ),
    concern="version",
    severity="high",
    remediation=(
        "Pin the chain root's parent and rebuild the chain; a child whose goldenParent disagrees with its parent "
        "in the stack is rebuilt from that parent (run the program again) or pointed at the version it used."
    ),
    config=_PROD_STACK_CONFIG,
    extra_tags=("golden-image",),
)
def _stack_chain_pinned(
    args: StackValidationArgs, config: Mapping[str, Any]
) -> Iterable[tuple[str, str | None]]:
    for child, claim, walk in _prod_walks(args, config):
        root = _root_reference(walk)
        chain = _chain_text(child, walk)
        if root is not UNKNOWN and (text(root) is None or is_floating_reference(root)):
            shown = repr(root) if isinstance(root, str) else "no pinned parent"
            yield (
                f"{child.label} is built on the chain {chain}, whose root starts from {shown}, so the child "
                f"floats and the prod image changes without a code change; pin the root image's parent (run "
                f"'golden-images pin' for AWS SSM parameters) and rebuild the chain.",
                child.urn,
            )
        parent = walk.parents[0] if walk.parents else None
        if (
            parent is not None
            and isinstance(parent.fingerprint, str)
            and parent.fingerprint != claim.fingerprint
        ):
            yield (
                f"{child.label} claims golden parent {claim.ref} with fingerprint {claim.fingerprint!r}, but "
                f"{parent.label} in this stack has fingerprint {parent.fingerprint!r}; rebuild the child from the "
                f"parent in this stack (run the program again) or point goldenParent at the version it was built "
                f"from.",
                child.urn,
            )
        if walk.parents and isinstance(root, str) and root != claim.parent_image:
            yield (
                f"{child.label} claims its chain starts from {claim.parent_image!r}, but its chain in this stack "
                f"({chain}) starts from {root!r}; rebuild the child from the parent in this stack (run the "
                f"program again).",
                child.urn,
            )


@stack_policy(
    name="golden-image-stack-chain-encryption-in-prod",
    description=(
        "In prod, every image along a layered platform component's chain in the stack is encrypted with a "
        "customer key (or attested), as the child claims."
    ),
    concern="encryption",
    severity="critical",
    remediation=(
        "Configure the customer-managed key of every image in the chain (AWS kms_keys, Azure "
        "disk_encryption_sets, GCP kms_key, Proxmox encrypted_datastores) and rebuild the children."
    ),
    config=_PROD_STACK_CONFIG,
    extra_tags=("golden-image",),
)
def _stack_chain_encryption(
    args: StackValidationArgs, config: Mapping[str, Any]
) -> Iterable[tuple[str, str | None]]:
    for child, claim, walk in _prod_walks(args, config):
        levels: list[tuple[str, Any]] = [(p.label, p.encryption) for p in walk.parents]
        if walk.end == "claim" and walk.last_claim is not None:
            levels.append((f"golden parent {walk.last_claim.ref}", walk.last_claim.encryption))
        known = [(who, level) for who, level in levels if level is not UNKNOWN]
        if known:
            who, weakest = min(known, key=lambda entry: rank(entry[1]))
            if weakest not in PROD_ENCRYPTION_LEVELS:
                shown = repr(weakest) if isinstance(weakest, str) else "no encryption level"
                yield (
                    f"{child.label} is built on the chain {_chain_text(child, walk)}, where {who} reports "
                    f"{shown}, so the child's effective encryption level is {shown}; prod images need a "
                    f"customer-managed key (or an attested datastore) along the whole chain: set that image's "
                    f"CMK settings in the catalog and rebuild the chain.",
                    child.urn,
                )
        parent = walk.parents[0] if walk.parents else None
        if (
            parent is not None
            and isinstance(parent.encryption, str)
            and parent.encryption != claim.encryption
        ):
            yield (
                f"{child.label} claims golden parent {claim.ref} reports encryption {claim.encryption!r}, but "
                f"{parent.label} in this stack reports {parent.encryption!r}; rebuild the child from the parent "
                f"in this stack (run the program again).",
                child.urn,
            )


@stack_policy(
    name="golden-image-stack-parent-exists",
    description=(
        "Every golden parent a platform component builds on exists in the same stack or is declared as a "
        "registry entry."
    ),
    concern="version",
    severity="high",
    remediation=(
        "Add the parent image and version to this stack's catalog, build the child on a version this stack has, "
        "or declare goldenParent.registry with the stack that recorded the parent's version."
    ),
    extra_tags=("golden-image",),
)
def _parent_exists(args: StackValidationArgs, config: Mapping[str, Any]) -> Iterable[tuple[str, str | None]]:
    stack = _Stack(args.resources)
    for node in stack.nodes:
        claim = node.claim
        if claim.problem is not None:
            yield _malformed(node.label, claim.problem, "whether its golden parent exists"), node.urn
            continue
        parent = claim.parent
        if parent is None or parent.registry is not None or stack.parent_of(node, parent) is not None:
            continue
        if node.type in stack.unknown_types:  # the parent may be the component whose identity is unknown
            continue
        kind = KIND.get(node.type, node.type)
        yield (
            f"{node.label} builds on golden parent {parent.ref}, which is neither in this stack (no {kind} of "
            f"image {parent.image!r} version {parent.version!r}) nor declared as a registry entry; add "
            f"{parent.ref} to this stack's catalog, build the child on a version this stack has, or set "
            f"goldenParent.registry to the stack that recorded {parent.ref}.",
            node.urn,
        )
