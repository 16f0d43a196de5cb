"""Consumers in code: resolve ``image + channel (+ platform, location)`` to a launchable artifact id from the
golden-images stack's ``registry`` output, through a :class:`pulumi.StackReference` — the Pulumi counterpart of
HCP Packer's ``hcp_packer_artifact`` data source.

.. code-block:: python

    from golden_images.consume import artifact

    ami = artifact("org/golden-images/prod", "base-ubuntu", "stable", platform="aws", location="eu-west-1")
    aws.ec2.Instance("web", ami=ami, instance_type="t3.micro")

The ``registry`` output has the shape :func:`registry_output` builds from ``stacks/registry.yaml``: per image,
per channel, the version it points at, its artifacts and its revocation (with the revoked ancestor's for a
version built on one). A channel on a revoked version raises :class:`ConsumeError` inside the output — so
``pulumi preview`` fails naming the version and the reason — and a scheduled revocation logs a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import pulumi

from golden_images.registry import ops
from golden_images.registry.model import Registry, find

#: Name of the stack output the consumer reads.
OUTPUT_NAME: Final = "registry"


class ConsumeError(Exception):
    """The reference cannot be resolved to a launchable artifact (unknown image/channel/location, empty
    channel, revoked version)."""


def registry_output(registry: Registry) -> dict[str, Any]:
    """The consumer view of ``registry``: ``{"images": {image: {"channels": {channel: {"image", "version",
    "environment", "artifacts", "revocation"}}}}}`` (``revocation``: ``None`` or ``{"reason", "at", "cause"}``,
    the version's own or its nearest revoked ancestor's). Plain JSON values, ready for ``pulumi.export``."""
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
                    "at": rev.at.isoformat().replace("+00:00", "Z"),
                    "cause": str(cause) if cause is not None else None,
                }
            channels[channel] = {
                "image": name,
                "version": ch.current.version,
                "environment": ch.current.environment,
                "artifacts": version.artifacts if version is not None else {},
                "revocation": revocation,
            }
        images[name] = {"channels": channels}
    return {"images": images}


def resolve(
    view: Mapping[str, Any],
    image: str,
    channel: str,
    *,
    platform: str = "aws",
    location: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The artifact id ``channel`` of ``image`` points at on ``platform`` in ``location`` (default: the only
    location, else an error listing them). Raises :class:`ConsumeError`; warns on a scheduled revocation."""
    images = view.get("images") if isinstance(view, Mapping) else None
    entry = images.get(image) if isinstance(images, Mapping) else None
    if not isinstance(entry, Mapping):
        known = ", ".join(sorted(images)) if isinstance(images, Mapping) else "none"
        raise ConsumeError(f"image {image!r} is not in the golden-images registry output (images: {known})")
    channels = entry.get("channels") or {}
    if channel not in channels:
        raise ConsumeError(
            f"{image} has no channel {channel!r} (channels: {', '.join(sorted(channels)) or 'none'})"
        )
    target = channels[channel]
    if not isinstance(target, Mapping):
        raise ConsumeError(f"channel {channel} of {image} points at no version yet; promote one first")
    label = f"{image} {target.get('version')} ({target.get('environment')})"
    revocation = target.get("revocation")
    if isinstance(revocation, Mapping):
        at = dt.datetime.fromisoformat(str(revocation.get("at")))
        cause = f" (built on the revoked {revocation['cause']})" if revocation.get("cause") else ""
        if at <= (now or dt.datetime.now(dt.UTC)):
            raise ConsumeError(
                f"channel {channel} of {image} points at {label}, revoked since {revocation.get('at')}: "
                f"{revocation.get('reason')}{cause}; the golden-images team must roll the channel back"
            )
        pulumi.log.warn(
            f"channel {channel} of {image} points at {label}, which will be revoked at {revocation.get('at')}: "
            f"{revocation.get('reason')}{cause}"
        )
    places = (target.get("artifacts") or {}).get(platform) or {}
    if not places:
        raise ConsumeError(f"{label} has no {platform} artifact")
    if location is None:
        if len(places) != 1:
            raise ConsumeError(
                f"{label} has {platform} artifacts in {', '.join(sorted(places))}; pass location"
            )
        return str(next(iter(places.values())))
    if location not in places:
        raise ConsumeError(
            f"{label} has no {platform} artifact in {location} (has: {', '.join(sorted(places))})"
        )
    return str(places[location])


def artifact(
    stack: str | pulumi.StackReference,
    image: str,
    channel: str,
    *,
    platform: str = "aws",
    location: str | None = None,
) -> pulumi.Output[str]:
    """The launchable artifact id (AMI id, gallery image version id, GCP image path, Proxmox VM id) of
    ``channel`` of ``image``, read from ``stack``'s ``registry`` output (a stack name creates the
    :class:`pulumi.StackReference`). Fails the preview with :class:`ConsumeError` for a revoked version."""
    ref = stack if isinstance(stack, pulumi.StackReference) else pulumi.StackReference(stack)
    return ref.get_output(OUTPUT_NAME).apply(
        lambda view: resolve(view or {}, image, channel, platform=platform, location=location)
    )
