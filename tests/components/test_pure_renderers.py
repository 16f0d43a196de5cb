"""Pure functions without Pulumi: tag rendering, names, fingerprints, shared rules (examples + properties)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from golden_images.catalog.loader import load_catalog
from golden_images.core import rules
from golden_images.core.fingerprint import image_fingerprint
from golden_images.core.naming import ami_name, builder_name, gcp_image_name, ssm_parameter_name
from golden_images.core.steps import resolve_steps
from golden_images.core.tags import aws_tags, azure_tags, gcp_labels, proxmox_tags
from tests.components.limits import GCP_LABEL_KEY, GCP_LABEL_VALUE, GCP_NAME, IMAGE_BUILDER_NAME, PROXMOX_TAG
from tests.conftest import ROOT, stack_catalog

tag_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=300
)
image_names = st.from_regex(r"[a-z][a-z0-9-]{1,38}[a-z0-9]", fullmatch=True)
versions = st.tuples(*(st.integers(0, 2**31 - 1),) * 3).map(lambda t: ".".join(map(str, t)))
fingerprints = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@settings(max_examples=300)
@given(st.dictionaries(tag_text, tag_text, max_size=12))
def test_gcp_labels_always_valid(tags: dict[str, str]) -> None:
    labels = gcp_labels(tags)
    assert all(GCP_LABEL_KEY.fullmatch(k) and GCP_LABEL_VALUE.fullmatch(v) for k, v in labels.items()), labels
    assert len(labels) <= len(tags)


@settings(max_examples=300)
@given(st.dictionaries(tag_text, tag_text, max_size=12))
def test_proxmox_tags_always_valid_and_sorted(tags: dict[str, str]) -> None:
    rendered = proxmox_tags(tags)
    assert rendered == sorted(set(rendered))
    assert all(PROXMOX_TAG.fullmatch(t) for t in rendered), rendered


def test_tag_examples() -> None:
    canonical = {"image-version": "1.4.2", "owner": "Platform Team", "golden-image": "base-ubuntu"}
    assert gcp_labels(canonical) == {
        "golden-image": "base-ubuntu",
        "image-version": "1-4-2",
        "owner": "platform-team",
    }
    assert proxmox_tags(canonical) == [
        "golden-image_base-ubuntu",
        "image-version_1.4.2",
        "owner_platform-team",
    ]
    assert list(aws_tags(canonical)) == sorted(canonical)
    assert azure_tags(canonical) == dict(sorted(canonical.items()))


@pytest.mark.parametrize(
    ("tags", "labels"),
    [
        # At the GCP limit (63) a key and a value are kept whole; one past it both are cut to 63.
        ({"k" * 63: "v" * 63}, {"k" * 63: "v" * 63}),
        ({"k" * 64: "v" * 64}, {"k" * 63: "v" * 63}),
        # Lowercased, anything outside [a-z0-9_-] becomes "-"; a key must start with a letter.
        ({"Owner Name": "Platform Team!"}, {"owner-name": "platform-team-"}),
        ({"9lead": "x"}, {"k9lead": "x"}),
        ({"image-version": "1.4.2"}, {"image-version": "1-4-2"}),
    ],
)
def test_gcp_labels_at_and_past_the_limit(tags: dict[str, str], labels: dict[str, str]) -> None:
    assert gcp_labels(tags) == labels


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        # 46 + "-1-2-3-" + 10 = 63: at the limit the family is kept whole ...
        ("f" * 46, "f" * 46 + "-1-2-3-aaaaaaaaaa"),
        # ... past it the family is shortened so the name stays at 63 with version and fingerprint whole.
        ("f" * 62, "f" * 46 + "-1-2-3-aaaaaaaaaa"),
    ],
)
def test_gcp_image_name_at_and_past_the_limit(family: str, expected: str) -> None:
    assert gcp_image_name(family, "1.2.3", "a" * 64) == expected


@settings(max_examples=300)
@given(image_names, st.sampled_from(["dev", "staging", "prod"]), fingerprints)
def test_builder_names_fit_image_builder(name: str, env: str, fp: str) -> None:
    rendered = builder_name(f"{name}-{env}", fp)
    assert IMAGE_BUILDER_NAME.fullmatch(rendered), rendered
    assert rendered.endswith(fp[:10])


@settings(max_examples=300)
@given(image_names, versions, fingerprints)
def test_gcp_image_names_valid(family: str, version: str, fp: str) -> None:
    rendered = gcp_image_name(family, version, fp)
    assert GCP_NAME.fullmatch(rendered) and len(rendered) <= 63, rendered
    assert rendered.endswith(f"{version.replace('.', '-')}-{fp[:10]}")


def test_ami_and_ssm_names() -> None:
    assert ami_name("base-ubuntu", "1.4.2") == "base-ubuntu-1.4.2-{{ imagebuilder:buildDate }}"
    assert ssm_parameter_name("/golden-images/", "prod", "base") == "/golden-images/prod/base/ami-id"


@settings(max_examples=200)
@given(st.one_of(st.text(max_size=40), st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2)))
def test_rules_are_total(value: object) -> None:
    # Never raise on arbitrary input (the policy pack feeds these functions engine properties), and always
    # answer with the documented type: a predicate that returned None or a str would read as "false" upstream.
    for predicate in (
        rules.is_semver,
        rules.is_floating_reference,
        rules.is_customer_kms_key,
        rules.is_truthy_flag,
        rules.is_gallery_version_name,
    ):
        assert type(predicate(value)) is bool, predicate
    assert rules.cron_problem(value) is None or type(rules.cron_problem(value)) is str
    version = rules.image_builder_arn_version(value)
    assert version is None or (isinstance(value, str) and version in value)
    if not isinstance(value, str):
        # Only strings can be references, keys, versions or flags.
        assert not rules.is_floating_reference(value) and not rules.is_customer_kms_key(value)
        assert rules.cron_problem(value) == "the schedule must be a string such as 'cron(0 4 ? * MON *)'"


def test_rule_examples() -> None:
    assert rules.is_semver("1.4.2") and not rules.is_semver("1.4") and not rules.is_semver("01.4.2")
    assert rules.is_floating_reference("arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-24/x.x.x")
    assert rules.is_floating_reference("ssm:/aws/service/canonical/ubuntu")
    assert rules.is_floating_reference("/subscriptions/s/galleries/g/images/i/versions/latest")
    assert not rules.is_floating_reference("arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-24/2024.11.1")
    assert not rules.is_floating_reference("ami-0a1b2c3d4e5f60718")
    assert rules.is_floating_reference("projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64")
    assert not rules.is_floating_reference(
        "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-v20241115"
    )
    assert not rules.is_customer_kms_key("alias/aws/ebs")
    assert not rules.is_customer_kms_key("arn:aws:kms:us-east-1:111111111111:alias/aws/imagebuilder")
    assert not rules.is_customer_kms_key("")
    assert rules.is_customer_kms_key("arn:aws:kms:us-east-1:111111111111:alias/golden")
    assert (
        rules.is_truthy_flag("true") and not rules.is_truthy_flag("false") and not rules.is_truthy_flag(None)
    )
    assert rules.cron_problem("cron(0 4 ? * MON *)") is None
    assert rules.cron_problem("cron(0 4 * * *)") is not None
    assert rules.is_gallery_version_name("1.4.2") and not rules.is_gallery_version_name("1.4.2147483648")


# --- fingerprints ------------------------------------------------------------------------------------------


def _fp(raw: dict[str, object], root: Path = ROOT, index: int = 0) -> str:
    catalog = load_catalog(raw, source="test", root=root)
    image = catalog.images[index]
    return image_fingerprint(image, resolve_steps(image, root))


def test_fingerprint_stable_under_key_order_and_unrelated_edits() -> None:
    raw = stack_catalog("dev")
    base = _fp(raw)
    reordered = copy.deepcopy(raw)
    reordered["images"][0] = dict(reversed(list(reordered["images"][0].items())))
    reordered["images"][0]["os"] = dict(reversed(list(reordered["images"][0]["os"].items())))
    assert _fp(reordered) == base
    unrelated = copy.deepcopy(raw)
    unrelated["images"][0]["description"] = "reworded"
    unrelated["images"][0]["tags"]["data-classification"] = "public"
    unrelated["images"][0]["version"] = "1.4.3"
    unrelated["images"][1]["provision"].append({"shell": "echo other image"})
    unrelated["defaults"]["aws"]["instance_types"] = ["c7i.large"]
    assert _fp(unrelated) == base


def test_fingerprint_follows_script_content(tmp_path: Path) -> None:
    (tmp_path / "images" / "base-ubuntu" / "files").mkdir(parents=True)
    (tmp_path / "images" / "app-runtime").mkdir(parents=True)
    for rel in (
        "images/base-ubuntu/harden.sh",
        "images/base-ubuntu/cleanup.sh",
        "images/base-ubuntu/files/sshd_config",
        "images/app-runtime/install-runtime.sh",
    ):
        (tmp_path / rel).write_bytes((ROOT / rel).read_bytes())
    raw = stack_catalog("dev")
    before = _fp(raw, tmp_path)
    assert before == _fp(raw, ROOT)
    (tmp_path / "images/base-ubuntu/harden.sh").write_text("#!/bin/bash\necho changed\n")
    assert _fp(raw, tmp_path) != before
    changed_step = copy.deepcopy(raw)
    changed_step["images"][0]["provision"][0]["packages"].append("aide")
    assert _fp(changed_step) != _fp(raw)


def test_awstoe_document_phases() -> None:
    from golden_images.platforms.aws.awstoe import render_component_document
    from tests.components.step_platforms import b64_heredocs

    catalog = load_catalog(stack_catalog("dev"), source="test", root=ROOT)
    image = catalog.images[0]
    text = render_component_document(image, resolve_steps(image, ROOT))
    assert "{{" not in text  # AWSTOE would expand it: catalog text only travels base64-encoded
    document = yaml.safe_load(text)
    assert document["schemaVersion"] == 1.0
    phases = {p["name"]: p["steps"] for p in document["phases"]}
    assert list(phases) == ["build", "validate", "test"]
    build = phases["build"]
    assert all(s["action"] == "ExecuteBash" for p in phases.values() for s in p)
    assert all(s["inputs"]["commands"][0] == "set -euo pipefail" for p in phases.values() for s in p)
    runners = [b64_heredocs(s["inputs"]["commands"][1]) for s in build]
    assert (
        b"apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends auditd"
        in runners[0]['"$dir/step"']
    )
    assert runners[1]['"$dir/step"'] == (ROOT / "images/base-ubuntu/harden.sh").read_bytes()
    copy_step = runners[2]
    assert copy_step['"$dir/data"'] == (ROOT / "images/base-ubuntu/files/sshd_config").read_bytes()
    assert (
        b"/etc/ssh/sshd_config" in copy_step['"$dir/step"']
        and b"sha256sum --check" in copy_step['"$dir/step"']
    )
    assert all('bash -euo pipefail "$dir/step"' in s["inputs"]["commands"][1] for s in build)
    names = [s["name"] for p in phases.values() for s in p]
    assert len(names) == len(set(names)) and all(n.isalnum() for n in names)
