"""Consumers in code: resolve ``image + channel (+ platform, location)`` to a launchable artifact id from the
golden-images stack's ``registry`` output, through a :class:`pulumi.StackReference` — the Pulumi counterpart of
HCP Packer's ``hcp_packer_artifact`` data source.

.. code-block:: python

    from golden_images.consume import artifact

    ami = artifact("org/golden-images/prod", "base-ubuntu", "stable", platform="aws", location="eu-west-1")
    aws.ec2.Instance("web", ami=ami, instance_type="t3.micro")

The ``registry`` output is what :func:`golden_images.registry.export.export_registry` returns (shape in
:mod:`golden_images.registry.export`): per image, per channel, the version it points at, its artifacts, its
revocation (the revoked ancestor's for a version built on one) and the SSM parameters the stack keeps, plus
the list of every revoked artifact. A channel on a revoked version raises :class:`ConsumeError` inside the
output — so ``pulumi preview`` fails naming the version and the reason — and a scheduled revocation logs a
warning. :func:`launchable` checks an id a program pins itself; :func:`parameter` gives the channel's
``resolve:ssm:`` reference for launch templates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pulumi

from golden_images.registry.export import OUTPUT_NAME, registry_view
from golden_images.registry.model import SCHEMA_VERSION, Registry

__all__ = [
    "OUTPUT_NAME",
    "ConsumeError",
    "artifact",
    "check",
    "launchable",
    "parameter",
    "registry_output",
    "resolve",
]


class ConsumeError(Exception):
    """The reference cannot be resolved to a launchable artifact (unknown image/channel/location, empty
    channel, revoked version, an output of another schema)."""


def registry_output(registry: Registry) -> dict[str, Any]:
    """The ``registry`` output value of ``registry`` without stack-specific parts (no environment, no SSM
    parameters): :func:`golden_images.registry.export.registry_view`."""
    return registry_view(registry)


def _channel(view: Mapping[str, Any], image: str, channel: str) -> Mapping[str, Any]:
    if not isinstance(view, Mapping):
        raise ConsumeError("the golden-images stack has no registry output (is it an older stack?)")
    schema = view.get("schema_version", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise ConsumeError(
            f"the golden-images registry output has schema_version {schema}; this consumer reads "
            f"{SCHEMA_VERSION} (upgrade golden-images)"
        )
    images = view.get("images")
    entry = images.get(image) if isinstance(images, Mapping) else None
    if not isinstance(entry, Mapping):
        known = ", ".join(sorted(images)) if isinstance(images, Mapping) and images else "none"
        raise ConsumeError(f"image {image!r} is not in the golden-images registry output (images: {known})")
    channels = entry.get("channels") or {}
    if channel not in channels:
        raise ConsumeError(
            f"{image} has no channel {channel!r} (channels: {', '.join(sorted(channels)) or 'none'})"
        )
    target = channels[channel]
    if not isinstance(target, Mapping):
        raise ConsumeError(f"channel {channel} of {image} points at no version yet; promote one first")
    return target


def _check_revocation(label: str, image: str, channel: str, revocation: Any, now: dt.datetime | None) -> None:
    if not isinstance(revocation, Mapping):
        return
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
    target = _channel(view, image, channel)
    label = f"{image} {target.get('version')} ({target.get('environment')})"
    _check_revocation(label, image, channel, target.get("revocation"), now)
    places = (target.get("artifacts") or {}).get(platform) or {}
    if not places:
        raise ConsumeError(f"{label} has no {platform} artifact")
    if location is None:
        if len(places) != 1:
            raise ConsumeError(
                f"{label} has {platform} artifacts in {', '.join(sorted(places))}; pass location"
            )
        location = next(iter(places))
    if location not in places:
        raise ConsumeError(
            f"{label} has no {platform} artifact in {location} (has: {', '.join(sorted(places))})"
        )
    return check(view, str(places[location]), platform=platform, now=now)


def check(
    view: Mapping[str, Any], artifact_id: str, *, platform: str = "aws", now: dt.datetime | None = None
) -> str:
    """``artifact_id`` unchanged, unless the output's ``revocations`` list it as revoked on ``platform``
    (the time has come): then :class:`ConsumeError` naming the version and the reason. For ids a program
    pins itself instead of following a channel."""
    moment = now or dt.datetime.now(dt.UTC)
    for entry in view.get("revocations") or () if isinstance(view, Mapping) else ():
        if not isinstance(entry, Mapping) or entry.get("platform") != platform:
            continue
        if str(entry.get("id", "")).lower() != artifact_id.lower():
            continue
        if dt.datetime.fromisoformat(str(entry.get("at"))) > moment:
            pulumi.log.warn(
                f"{artifact_id} is {entry.get('image')} {entry.get('version')} ({entry.get('environment')}), "
                f"to be revoked at {entry.get('at')}: {entry.get('reason')}"
            )
            continue
        cause = f" (built on the revoked {entry['cause']})" if entry.get("cause") else ""
        raise ConsumeError(
            f"{artifact_id} is {entry.get('image')} {entry.get('version')} ({entry.get('environment')}), "
            f"revoked since {entry.get('at')}: {entry.get('reason')}{cause}; launch a good version"
        )
    return artifact_id


def _reference(stack: str | pulumi.StackReference) -> pulumi.StackReference:
    return stack if isinstance(stack, pulumi.StackReference) else pulumi.StackReference(stack)


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
    return (
        _reference(stack)
        .get_output(OUTPUT_NAME)
        .apply(lambda view: resolve(view or {}, image, channel, platform=platform, location=location))
    )


def launchable(
    stack: str | pulumi.StackReference, artifact_id: str, *, platform: str = "aws"
) -> pulumi.Output[str]:
    """``artifact_id`` (pinned by the program), failing the preview when ``stack``'s registry output lists
    it as revoked (:func:`check`)."""
    return (
        _reference(stack)
        .get_output(OUTPUT_NAME)
        .apply(lambda view: check(view or {}, artifact_id, platform=platform))
    )


def parameter(
    stack: str | pulumi.StackReference, image: str, channel: str, *, region: str
) -> pulumi.Output[str]:
    """``resolve:ssm:<name>`` of the SSM parameter the golden-images stack keeps for ``channel`` of
    ``image`` in ``region`` (for launch templates that resolve at launch time). Raises like :func:`resolve`
    for a revoked channel, and when the stack keeps no parameter there."""

    def pick(view: Any) -> str:
        target = _channel(view or {}, image, channel)
        label = f"{image} {target.get('version')} ({target.get('environment')})"
        _check_revocation(label, image, channel, target.get("revocation"), None)
        names = target.get("parameters") or {}
        if region not in names:
            raise ConsumeError(
                f"the golden-images stack keeps no SSM parameter for channel {channel} of {image} in {region} "
                f"(has: {', '.join(sorted(names)) or 'none'}; parameters live in the stack of the version's "
                "environment)"
            )
        return f"resolve:ssm:{names[region]}"

    return _reference(stack).get_output(OUTPUT_NAME).apply(pick)
