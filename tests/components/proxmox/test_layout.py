"""Pure Proxmox rules: VM ids, file names, descriptions, encryption level (examples and properties)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden_images.core.rules import is_proxmox_tag
from golden_images.core.tags import proxmox_tags
from golden_images.platforms.proxmox import layout
from golden_images.platforms.proxmox.spec import ProxmoxSpec


def spec(**overrides: Any) -> ProxmoxSpec:
    values: dict[str, Any] = {
        "nodes": ("pve1", "pve2"),
        "vm_id_range": {"start": 1_000_000, "end": 1_199_999},
        "cloud_image": {"url": "https://example.org/images/base.img", "sha256": "ab" * 32},
    }
    values.update(overrides)
    return ProxmoxSpec.model_validate(values)


def test_vm_ids_are_readable_per_version_and_node() -> None:
    s = spec()
    assert layout.template_vm_id(s, "1.4.2", "pve1") == 1_010_402
    assert layout.template_vm_id(s, "1.4.3", "pve1") == 1_010_403
    assert layout.template_vm_id(s, "1.4.2", "pve2") == 1_110_402


versions = st.tuples(st.integers(0, 9), st.integers(0, 99), st.integers(0, 99)).map(
    lambda t: f"{t[0]}.{t[1]}.{t[2]}"
)
#: Every version the catalog's semver rule accepts, including parts of 100 and more (which used to collide:
#: 0.0.100 and 0.1.0 both had slot 100).
any_versions = st.tuples(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)).map(
    lambda t: f"{t[0]}.{t[1]}.{t[2]}"
) | st.tuples(st.integers(0, 12), st.integers(0, 120), st.integers(0, 120)).map(
    lambda t: f"{t[0]}.{t[1]}.{t[2]}"
)


def test_versions_that_would_share_an_id_are_refused() -> None:
    s = spec()
    assert layout.version_slot_problem(s, "0.1.0") is None
    problem = layout.version_slot_problem(s, "0.0.100")
    assert problem is not None and "at most 99" in problem
    with pytest.raises(ValueError, match="at most 99"):
        layout.template_vm_id(s, "0.0.100", "pve1")
    small = spec(nodes=("pve1",), vm_id_range={"start": 9000, "end": 9099})
    assert layout.template_vm_id(small, "0.0.99", "pve1") == 9099
    refused = layout.version_slot_problem(small, "0.1.0")
    assert refused is not None and "widen vm_id_range to end at 9100" in refused


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(100, 900_000_000),
    share=st.integers(100, 200_000),
    nodes=st.integers(1, 5),
    a=any_versions,
    b=any_versions,
)
def test_version_to_vm_id_is_injective_over_accepted_versions(
    start: int, share: int, nodes: int, a: str, b: str
) -> None:
    """For any range and node count, every version is either refused or gets an id inside the range, one per
    node, and two distinct accepted versions never share an id on any node (nor across nodes)."""
    names = tuple(f"pve{i}" for i in range(nodes))
    s = spec(nodes=names, vm_id_range={"start": start, "end": start + share * nodes - 1})
    accepted = [v for v in (a, b) if layout.version_slot_problem(s, v) is None]
    ids = {v: [layout.template_vm_id(s, v, n) for n in names] for v in accepted}
    for version, per_node in ids.items():
        assert all(s.vm_id_range.start <= i <= s.vm_id_range.end for i in per_node), version
        assert len(set(per_node)) == nodes
    if len(ids) == 2 and a != b:
        assert not set(ids[a]) & set(ids[b]), (a, b, ids)
    for version in {a, b} - set(accepted):
        with pytest.raises(ValueError):
            layout.template_vm_id(s, version, names[0])


@settings(max_examples=200, deadline=None)
@given(a=versions, b=versions)
def test_distinct_versions_get_distinct_ids_with_a_full_share(a: str, b: str) -> None:
    s = spec(nodes=("pve1",), vm_id_range={"start": 100_000, "end": 199_999})
    assert (layout.template_vm_id(s, a, "pve1") == layout.template_vm_id(s, b, "pve1")) == (a == b)


@settings(max_examples=200, deadline=None)
@given(
    tags=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
        st.from_regex(r"[A-Za-z0-9 _.:/=+@-]{0,30}", fullmatch=True),
        max_size=8,
    )
)
def test_rendered_tags_are_always_valid_and_sorted(tags: dict[str, str]) -> None:
    rendered = proxmox_tags(tags)
    assert rendered == sorted(rendered) and all(is_proxmox_tag(t) for t in rendered)


def test_description_round_trips_the_fingerprint() -> None:
    fp = "c" * 64
    text = layout.template_description("Hardened base", "base-ubuntu", "1.4.2", "prod", fp, "d" * 64)
    assert layout.description_fingerprint(text) == fp
    assert layout.description_fingerprint(text.rstrip("\n")) == fp  # PVE may drop the final newline
    assert layout.description_fingerprint(text.replace("\n", "\r\n")) == fp
    assert "golden-images-version: 1.4.2" in text
    assert layout.description_fingerprint(None) is None
    assert layout.description_fingerprint("golden-images-fingerprint: short") is None


FORGED = "f" * 64


@pytest.mark.parametrize(
    "catalog_description",
    [
        f"golden-images-fingerprint: {FORGED}",
        f"Base\ngolden-images-fingerprint: {FORGED}",
        f"Base\n\ngolden-images-image: base-ubuntu\ngolden-images-fingerprint: {FORGED}",
        f"Base\n\ngolden-images-image: base-ubuntu\ngolden-images-fingerprint: {FORGED}\n",
    ],
)
def test_catalog_text_cannot_forge_the_fingerprint(catalog_description: str) -> None:
    real = "c" * 64
    text = layout.template_description(catalog_description, "base-ubuntu", "1.4.2", "prod", real)
    assert layout.description_fingerprint(text) == real
    assert layout.description_fingerprint(f"Base\ngolden-images-fingerprint: {FORGED}") is None


@settings(max_examples=300, deadline=None)
@given(catalog_description=st.text(min_size=1, max_size=200))
def test_no_catalog_description_changes_the_recorded_fingerprint(catalog_description: str) -> None:
    real = "0123456789abcdef" * 4
    text = layout.template_description(catalog_description, "base-ubuntu", "1.4.2", "dev", real, "e" * 64)
    assert layout.description_fingerprint(text) == real


def test_file_names_are_content_addressed() -> None:
    assert layout.cloud_image_file_name("base-ubuntu", "ab" * 32) == "base-ubuntu-abababababab.img"
    assert layout.snippet_file_name("base-ubuntu", "1.4.2", "0123456789abcdef" * 4) == (
        "golden-base-ubuntu-1.4.2-0123456789.yaml"
    )
    assert layout.builder_vm_name("base-ubuntu", "1.4.2") == "base-ubuntu-1-4-2"


def test_encryption_is_attested_only_for_an_allow_listed_datastore() -> None:
    assert layout.encryption_level(spec()) == "none"
    attested = spec(
        vm_datastore="ceph-crypt",
        encrypted_datastores=(
            {"datastore": "ceph-crypt", "mechanism": "ceph-osd-encryption", "evidence": "SEC-1"},
        ),
    )
    assert layout.encryption_level(attested) == "attested"
    other = spec(
        encrypted_datastores=({"datastore": "ceph-crypt", "mechanism": "luks", "evidence": "SEC-1"},),
    )
    assert layout.encryption_level(other) == "none"
