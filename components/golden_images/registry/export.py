"""The registry as the golden-images stack publishes it: the ``registry`` stack output that
:mod:`golden_images.consume` reads, and on AWS one SSM parameter per channel, image and region holding the
AMI id the channel points at.

The output is the same from every stack (the registry file is one, in git) apart from ``environment`` and
the ``parameters`` this stack keeps::

    {"schema_version": 1, "environment": "prod",
     "images": {image: {"channels": {channel: None | {
         "image", "version", "environment", "artifacts": {platform: {location: id}},
         "revocation": None | {"reason", "at", "cause"},
         "parameters": {region: ssm parameter name}}}}},
     "revocations": [{"id", "platform", "location", "image", "version", "environment", "reason", "at",
                      "cause"}, ...]}

Parameters are kept only by the stack of the channel's version's environment (its AMIs live in that
account) and only for images of its catalog with an ``aws`` section, in the image's regions where the
version has an AMI. A channel whose version is revoked (the time has come) keeps no parameter, so a
``resolve:ssm:`` launch fails instead of starting a revoked image; a scheduled revocation keeps it and warns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pulumi

from golden_images.catalog.spec import Catalog

from . import ops, store
from .model import SCHEMA_VERSION, Registry, find

#: Name of the stack output (what :func:`golden_images.consume.artifact` reads).
OUTPUT_NAME: Final = "registry"


def channel_parameter_name(prefix: str, environment: str, image: str, channel: str) -> str:
    """``<prefix>/<env>/<image>/channels/<channel>/ami-id``: beside the image's own ``…/<image>/ami-id``
    (newest build), so one prefix grants read access to both."""
    return f"{prefix.rstrip('/')}/{environment}/{image}/channels/{channel}/ami-id"


def _iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def registry_view(
    registry: Registry,
    *,
    environment: str | None = None,
    parameters: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
) -> dict[str, Any]:
    """The output value (module docstring) of ``registry``; ``parameters`` is image → channel → region →
    SSM parameter name (default: none). Plain JSON values, ready for ``pulumi.export``."""
    images: dict[str, Any] = {}
    for name, entry in sorted(registry.images.items()):
        channels: dict[str, Any] = {}
        for channel, ch in sorted(entry.channels.items()):
            if ch.current is None:
                channels[channel] = None
                continue
            version = find(registry, ch.current)
            found = ops.revocation_of(registry, ch.current)
            revocation = None
            if found is not None:
                rev, carrier = found
                cause = rev.cause or (carrier if carrier != ch.current else None)
                revocation = {
                    "reason": rev.reason,
                    "at": _iso(rev.at),
                    "cause": str(cause) if cause is not None else None,
                }
            channels[channel] = {
                "image": name,
                "version": ch.current.version,
                "environment": ch.current.environment,
                "artifacts": {p: dict(a) for p, a in version.artifacts.items()} if version else {},
                "revocation": revocation,
                "parameters": dict((parameters or {}).get(name, {}).get(channel, {})),
            }
        images[name] = {"channels": channels}
    return {
        "schema_version": SCHEMA_VERSION,
        "environment": environment,
        "images": images,
        "revocations": ops.revoked_artifacts(registry),
    }


def _revoked_now(registry: Registry, ref: Any, now: dt.datetime) -> tuple[bool, str | None]:
    found = ops.revocation_of(registry, ref)
    if found is None:
        return False, None
    return found[0].at <= now, found[0].reason


def export_registry(
    root: Path,
    environment: str,
    *,
    catalog: Catalog | None = None,
    registry_file: Path | None = None,
    now: dt.datetime | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> dict[str, Any]:
    """Read ``registry_file`` (default ``<root>/stacks/registry.yaml``; missing: empty), register the
    channel SSM parameters of ``environment`` for ``catalog``'s AWS images (none without a catalog), and
    return the ``registry`` output value. Resources are named ``registry-<image>-<channel>-<region>``
    (``opts`` is passed to each). An invalid registry raises :class:`pulumi.RunError` listing every problem
    before anything is registered. ``now`` (default: the clock) decides which revocations are due."""
    path = registry_file or root / store.DEFAULT_PATH
    try:
        registry = store.load(path)
    except store.RegistryError as exc:
        raise pulumi.RunError(str(exc)) from None
    moment = now or dt.datetime.now(dt.UTC)
    parameters: dict[str, dict[str, dict[str, str]]] = {}
    for image in catalog.images if catalog is not None else ():
        entry = registry.images.get(image.name)
        if image.aws is None or entry is None:
            continue
        for channel, ch in sorted(entry.channels.items()):
            if ch.current is None or ch.current.environment != environment:
                continue
            due, reason = _revoked_now(registry, ch.current, moment)
            if due:
                pulumi.log.warn(
                    f"channel {channel} of {image.name} points at the revoked {ch.current} ({reason}): no SSM "
                    f"parameter is kept for it; roll the channel back (golden-images revoke … --rollback)"
                )
                continue
            if reason is not None:
                pulumi.log.warn(
                    f"channel {channel} of {image.name} points at {ch.current}, whose revocation is scheduled "
                    f"({reason}); its SSM parameter goes when the revocation is due"
                )
            version = find(registry, ch.current)
            amis = version.artifacts.get("aws", {}) if version is not None else {}
            for region in image.aws.regions:
                if region not in amis:
                    continue
                name = channel_parameter_name(
                    image.aws.ssm_parameter_prefix, environment, image.name, channel
                )
                _parameter(image.name, channel, region, name, amis[region], ch.current, catalog, opts)
                parameters.setdefault(image.name, {}).setdefault(channel, {})[region] = name
    return registry_view(registry, environment=environment, parameters=parameters)


def _parameter(
    image: str,
    channel: str,
    region: str,
    name: str,
    ami: str,
    ref: Any,
    catalog: Catalog | None,
    opts: pulumi.ResourceOptions | None,
) -> None:
    # Imported here: consumers of :func:`registry_view` (and Azure/GCP-only programs) need no AWS SDK.
    import pulumi_aws as aws

    assert catalog is not None
    tags = {
        **catalog.tags_for(catalog.image(image)),
        "image-version": ref.version,
        "channel": channel,
    }
    aws.ssm.Parameter(
        f"registry-{image}-{channel}-{region}",
        aws.ssm.ParameterArgs(
            name=name,
            type="String",
            # SSM checks the value is an AMI it can see, and launch templates resolve it (resolve:ssm:…).
            data_type="aws:ec2:image",
            value=ami,
            region=region,
            description=f"AMI of channel {channel} of golden image {image}: {ref}",
            tags=dict(sorted(tags.items())),
        ),
        opts,
    )
