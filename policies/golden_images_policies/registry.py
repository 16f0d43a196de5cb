"""The pack's policy registry: each rule is declared where it is written, with its metadata on top of it.

A rule is a plain function ``check(ctx) -> Iterable[str]`` yielding complete violation sentences. Decorating it
with :func:`resource_policy` (or a stack check with :func:`stack_policy`) wraps it into a pulumi-policy
``ResourceValidationPolicy``/``StackValidationPolicy`` with the house metadata (description, severity,
enforcement level, remediation steps, one concern tag) and a JSON-schema config whose defaults are applied here
too, so a rule sees prod-grade defaults even when no engine sent ``Configure``. The decorator returns the function
unchanged; one function may carry several decorators (one policy each, e.g. the same check on two resource kinds).

Order: a module's policies are listed in the order their decorators appear in the file (top to bottom, also for
stacked decorators); :func:`golden_images_policies.pack.all_policies` lists the modules in a fixed order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .base import APPLY_EVERYWHERE_PROPERTY, CONCERNS, ENVIRONMENT_PROPERTY, Ctx, apply_defaults
from .props import Props

Check = Callable[[Ctx], Iterable[str]]
StackCheck = Callable[[StackValidationArgs, Mapping[str, Any]], Iterable[tuple[str, str | None]]]

#: Resource types each resource policy judges, filled as policies are registered (the inventory test reads it).
POLICY_TYPES: Final[dict[str, frozenset[str]]] = {}

_SEVERITY: Final = {
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


@dataclass(frozen=True)
class Registered:
    """One registered policy: the module that declared it, its place in the source order, the policy."""

    module: str
    seq: int
    policy: Policy


_REGISTERED: Final[dict[str, Registered]] = {}
#: Incremented when a decorator is *evaluated* (top to bottom), not when it is applied (bottom to top).
_SEQ: Final = itertools.count()


def registered() -> list[Registered]:
    """Every registered policy, in registration order of the source (see the module docstring)."""
    return sorted(_REGISTERED.values(), key=lambda r: r.seq)


def _register(seq: int, check: Callable[..., Any], policy: Policy) -> None:
    if policy.name in _REGISTERED:
        raise ValueError(f"policy {policy.name!r} is registered twice")
    _REGISTERED[policy.name] = Registered(check.__module__, seq, policy)


def _schema(properties: Mapping[str, Any] | None) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties=dict(properties)) if properties else None


def _tags(concern: str, extra: Sequence[str]) -> list[str]:
    if concern not in CONCERNS:
        raise ValueError(f"unknown concern {concern!r}; expected one of {CONCERNS}")
    return [concern, *extra]


def _metadata(
    name: str,
    description: str,
    level: EnforcementLevel,
    properties: Mapping[str, Any],
    severity: str,
    concern: str,
    extra_tags: Sequence[str],
    remediation: str,
) -> dict[str, Any]:
    """The keyword arguments every policy of the pack carries, whatever its kind."""
    return {
        "name": name,
        "description": description,
        "enforcement_level": level,
        "config_schema": _schema(properties),
        "severity": _SEVERITY[severity],
        "tags": _tags(concern, extra_tags),
        "remediation_steps": remediation,
    }


def resource_policy(
    *,
    name: str,
    description: str,
    concern: str,
    severity: str,
    types: Sequence[str],
    remediation: str,
    config: Mapping[str, Any] | None = None,
    prod_only: bool = False,
    extra_tags: Sequence[str] = (),
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> Callable[[Check], Check]:
    """Register the decorated ``check(ctx)`` as a resource policy that only looks at ``types``.

    ``level`` defaults to mandatory; ``config`` (default: none) is the JSON-schema properties of its config.
    ``prod_only`` (default False) rules return without a verdict outside prod unless their ``applyEverywhere``
    config is true; they get the ``environment`` and ``applyEverywhere`` config properties.
    """
    seq = next(_SEQ)
    properties: dict[str, Any] = dict(config or {})
    if prod_only:
        properties.setdefault("environment", ENVIRONMENT_PROPERTY)
        properties.setdefault("applyEverywhere", APPLY_EVERYWHERE_PROPERTY)
    wanted = frozenset(types)
    metadata = _metadata(name, description, level, properties, severity, concern, extra_tags, remediation)

    def register(check: Check) -> Check:
        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if args.resource_type not in wanted:
                return
            effective = apply_defaults(properties, args.get_config())
            ctx = Ctx(Props(args.props), args.resource_type, args.name, args.urn, effective)
            if prod_only and not ctx.is_prod and effective.get("applyEverywhere") is not True:
                return
            for message in check(ctx):
                report(message, None)
            ctx.props.finish()

        POLICY_TYPES[name] = wanted
        _register(seq, check, ResourceValidationPolicy(validate=validate, **metadata))
        return check

    return register


def stack_policy(
    *,
    name: str,
    description: str,
    concern: str,
    severity: str,
    remediation: str,
    config: Mapping[str, Any] | None = None,
    extra_tags: Sequence[str] = (),
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> Callable[[StackCheck], StackCheck]:
    """Register the decorated ``check(args, config)``, yielding ``(message, urn or None)``, as a stack policy.

    ``level`` defaults to mandatory; ``config`` (default: none) is the JSON-schema properties of its config.
    """
    seq = next(_SEQ)
    properties: dict[str, Any] = dict(config or {})
    metadata = _metadata(name, description, level, properties, severity, concern, extra_tags, remediation)

    def register(check: StackCheck) -> StackCheck:
        def validate(args: StackValidationArgs, report: ReportViolation) -> None:
            effective = apply_defaults(properties, args.get_config())
            for message, urn in check(args, effective):
                report(message, urn)

        _register(seq, check, StackValidationPolicy(validate=validate, **metadata))
        return check

    return register
