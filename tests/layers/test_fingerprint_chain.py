"""The fingerprint chain: a change anywhere in an ancestor changes exactly the fingerprints of it and its
descendants, and a root's resolved vendor source is part of the chain."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden_images.catalog import layers
from golden_images.catalog.loader import load_catalog
from tests.conftest import ROOT, stack_catalog
from tests.layers.helpers import image

_BASE = stack_catalog("dev")
_TEMPLATE = image(_BASE, "base-ubuntu")


def _catalog(
    parents: list[int | None], edited: int | None = None, vendor: str | None = None
) -> dict[str, Any]:
    """A dev catalog of ``len(parents)`` AWS images; image ``i`` builds on image ``parents[i]`` (always an
    earlier one, so no cycle). ``edited`` gets one more provision step; ``vendor`` replaces every root's
    SSM parameter."""
    raw = copy.deepcopy(_BASE)
    for platform in ("gcp", "azure", "proxmox"):
        raw["defaults"].pop(platform, None)
    images = []
    for i, parent in enumerate(parents):
        entry = copy.deepcopy(_TEMPLATE)
        for platform in ("gcp", "azure", "proxmox"):
            entry.pop(platform, None)
        entry["name"] = f"img-{i}"
        if parent is not None:
            entry["aws"]["parent"] = {"image": f"img-{parent}"}
        elif vendor is not None:
            entry["aws"]["parent"] = {"ssm_parameter": vendor}
        # Each image adds its own step (different bytes), as a layer does on top of its parent.
        entry["provision"] = [*entry["provision"], {"shell": f"touch /etc/layer-{i}"}]
        if i == edited:
            entry["provision"] = [*entry["provision"], {"shell": "touch /etc/edited"}]
        images.append(entry)
    raw["images"] = images
    return raw


def _fingerprints(raw: dict[str, Any]) -> dict[str, str]:
    catalog = load_catalog(raw, source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    return {name: build.fingerprint for name, build in layers.builds(catalog, ROOT).items()}


def _below(parents: list[int | None], k: int) -> set[str]:
    """``img-k`` and every image descending from it (computed here from the parent list, not by the code)."""
    found = {k}
    for i, parent in enumerate(parents):  # parents are earlier images: one pass in order suffices
        if parent in found:
            found.add(i)
    return {f"img-{i}" for i in found}


@st.composite
def forests(draw: st.DrawFn) -> list[int | None]:
    size = draw(st.integers(min_value=1, max_value=5))
    return [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, size)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parents=forests(), data=st.data())
def test_an_edit_changes_exactly_the_image_and_its_descendants(
    parents: list[int | None], data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(parents) - 1), label="edited image")
    before = _fingerprints(_catalog(parents))
    after = _fingerprints(_catalog(parents, edited=k))
    changed = {name for name in before if before[name] != after[name]}
    assert changed == _below(parents, k)
    # Different bytes never share a fingerprint: every image's fingerprint is its own.
    assert len(set(before.values())) == len(before)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parents=forests())
def test_a_vendor_source_change_changes_every_image_built_on_it(parents: list[int | None]) -> None:
    before = _fingerprints(_catalog(parents))
    after = _fingerprints(
        _catalog(
            parents,
            vendor="/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
        )
    )
    # Every image descends from a root, and every root's vendor parent changed.
    assert all(before[name] != after[name] for name in before)


def test_the_pinned_parent_is_part_of_the_fingerprint() -> None:
    """dev (the floating SSM parameter) and prod (pinned to an AMI) must not share a fingerprint."""
    from golden_images.core.build import ImageBuild

    class Pins:
        def __init__(self, ami: str | None) -> None:
            self.ami = ami

        def lookup(self, parameter: str, region: str) -> Any:
            return self if self.ami else None

    catalog = load_catalog(_catalog([None]), source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    spec = catalog.image("img-0")
    floating = ImageBuild.from_catalog(catalog, spec, ROOT)
    pinned = ImageBuild.from_catalog(catalog, spec, ROOT, Pins("ami-0123456789abcdef0"))
    other = ImageBuild.from_catalog(catalog, spec, ROOT, Pins("ami-0fedcba9876543210"))
    assert floating.content_fingerprint == pinned.content_fingerprint == other.content_fingerprint
    assert len({floating.fingerprint, pinned.fingerprint, other.fingerprint}) == 3
