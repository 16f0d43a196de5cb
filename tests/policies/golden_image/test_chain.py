"""Layered images judged through their golden parent chain (golden_image/lineage.py), through the analyzer.

Components are registered as the platform components register them: ``goldenParent`` among a layered child's
inputs and outputs, ``lineage`` and ``encryption`` among every component's outputs (``AnalyzeStack`` receives
components' outputs), and an AWS child's ``parentImage`` unknown (the parent's image ARN during a preview).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from policy_factories import UNKNOWN, compliant
from policy_support import PACK_DIR, PROJECT, of

from golden_images.engine.harness import PolicyHarness, is_preview_notice
from golden_images.engine.model import RegisteredResource, Violation

KINDS = {
    "aws": "aws_golden_image",
    "azure": "azure_golden_image",
    "gcp": "gcp_golden_image",
    "proxmox": "proxmox_golden_template",
}
TOKENS = {
    "aws": "golden-images:index:AwsGoldenImage",
    "azure": "golden-images:index:AzureGoldenImage",
    "gcp": "golden-images:index:GcpGoldenImage",
    "proxmox": "golden-images:index:ProxmoxGoldenTemplate",
}
#: Pinned vendor sources per platform.
PINNED = {
    "aws": "ami-0a1b2c3d4e5f60718",
    "azure": "Canonical:ubuntu-24_04-lts:server:24.04.202609040",
    "gcp": "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20260918",
    "proxmox": "https://cloud-images.ubuntu.com/releases/noble/release-20250610/ubuntu-24.04-server-cloudimg-amd64.img"
    "@sha256:" + "2f" * 32,
}
#: Floating vendor sources (the platforms that have one).
FLOATING = {
    "aws": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
    "azure": "Canonical:ubuntu-24_04-lts:server:latest",
    "gcp": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
}
LEVEL = {"aws": "enforced", "azure": "enforced", "gcp": "enforced", "proxmox": "attested"}
CHAIN_POLICIES = frozenset(
    {
        "golden-image-platform-chain-pinned",
        "golden-image-platform-chain-encryption-in-prod",
        "golden-image-stack-chain-pinned",
        "golden-image-stack-chain-encryption-in-prod",
        "golden-image-stack-parent-exists",
    }
)
_ids = itertools.count()


class Image:
    """One platform component of a catalog image, registered as the component registers itself."""

    def __init__(
        self,
        platform: str,
        image: str,
        version: str,
        *,
        source: str | None = None,
        parent: Image | None = None,
        encryption: str | None = None,
        claim: dict[str, Any] | None = None,
        engine_outputs: bool = True,
    ) -> None:
        self.platform, self.image, self.version = platform, image, version
        self.fingerprint = f"{image}-{version}".encode().hex().ljust(64, "0")[:64]
        self.encryption = encryption or LEVEL[platform]
        # A layered child's own parent reference is the parent's image (``<image>@<version>`` here).
        self.source = source if source is not None else (parent.ref if parent else PINNED[platform])
        self.root: str = parent.root if parent is not None else self.source
        self.claim: Any = claim if claim is not None else (parent.as_parent() if parent is not None else None)
        self.name = f"{image}-{platform}"
        self.urn = f"urn:pulumi:prod::{PROJECT}::{TOKENS[platform]}::{self.name}-{next(_ids)}"
        self.engine_outputs = engine_outputs
        #: Register no parent reference at all (a component that does not say what it is built on).
        self.drop_source = False

    @property
    def ref(self) -> str:
        return f"{self.image}@{self.version}"

    def as_parent(self) -> dict[str, Any]:
        """The ``goldenParent`` a child of this component registers (``golden_parent_prop``)."""
        return {
            "image": self.image,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "encryption": self.encryption,
            "parentImage": self.root,
        }

    def registered(self) -> RegisteredResource:
        layered = {"goldenParent": self.claim} if self.claim is not None else {}
        inputs = {
            **compliant(KINDS[self.platform]),
            "imageName": self.image,
            "version": self.version,
            "encryption": self.encryption,
            # An AWS child's parentImage is the parent's Image Builder image ARN: unknown in a preview.
            "parentImage": UNKNOWN if self.platform == "aws" and self.claim is not None else self.source,
            **layered,
        }
        outputs: dict[str, Any] = {
            "artifacts": {},
            "encryption": self.encryption,
            "lineage": {
                "image": self.image,
                "version": self.version,
                "fingerprint": self.fingerprint,
                "parentImage": self.source,
            },
            **layered,
        }
        if self.drop_source:
            del inputs["parentImage"], outputs["lineage"]["parentImage"]
        return RegisteredResource(
            urn=self.urn,
            type=TOKENS[self.platform],
            name=self.name,
            parent="",
            custom=False,
            inputs=inputs,
            outputs=outputs if self.engine_outputs else {},
        )


def chain(
    platform: str, depth: int, *, source: str | None = None, encryption: str | None = None
) -> list[Image]:
    """``base`` on ``source`` (default pinned), then ``depth`` layers ``layer1``… each on the previous one."""
    images = [Image(platform, "base-ubuntu", "1.4.2", source=source, encryption=encryption)]
    for level in range(1, depth + 1):
        images.append(Image(platform, f"layer{level}", f"2.{level}.0", parent=images[-1]))
    return images


def analyze(harness: PolicyHarness, images: list[Image]) -> list[Violation]:
    return harness.analyze([i.registered() for i in images])


def chain_violations(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.policy in CHAIN_POLICIES and not is_preview_notice(v)]


def on(violations: list[Violation], policy: str, image: Image) -> list[str]:
    """The messages ``policy`` reports about ``image``, each checked to be mandatory and to name it."""
    found = [v for v in of(violations, policy) if v.urn == image.urn and not is_preview_notice(v)]
    assert all(v.level == "mandatory" for v in found), found
    assert all(f"'{image.name}'" in v.message for v in found), [v.message for v in found]
    return [v.message for v in found]


# --- pinned chains pass --------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", sorted(KINDS))
@pytest.mark.parametrize("depth", [1, 2])
def test_a_pinned_encrypted_chain_passes_every_policy(
    configured: PolicyHarness, platform: str, depth: int
) -> None:
    violations = analyze(configured, chain(platform, depth))
    assert [v for v in violations if not is_preview_notice(v)] == []


@pytest.mark.parametrize("engine_outputs", [True, False])
def test_the_stack_walk_reads_outputs_or_inputs(configured: PolicyHarness, engine_outputs: bool) -> None:
    """Identity comes from ``lineage`` (the engine's outputs) or, with no outputs, from the inputs."""
    images = chain("gcp", 2, source=FLOATING["gcp"])
    for image in images:
        image.engine_outputs = engine_outputs
    violations = analyze(configured, images)
    assert on(violations, "golden-image-stack-chain-pinned", images[2])


# --- floating chains -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", sorted(FLOATING))
def test_a_child_of_a_floating_root_is_floating(
    configured: PolicyHarness, dev: PolicyHarness, platform: str
) -> None:
    images = chain(platform, 1, source=FLOATING[platform])
    root, child = images
    violations = analyze(configured, images)
    [claimed] = on(violations, "golden-image-platform-chain-pinned", child)
    assert (
        f"golden parent base-ubuntu@1.4.2, whose chain starts from the floating parent {FLOATING[platform]!r}"
        in (claimed)
    )
    [walked] = on(violations, "golden-image-stack-chain-pinned", child)
    assert f"chain base-ubuntu@1.4.2, whose root starts from {FLOATING[platform]!r}" in walked
    assert "golden-images pin" in walked
    # The root itself is judged by golden-image-platform-parent-pinned, not by the chain rules.
    assert on(violations, "golden-image-platform-chain-pinned", root) == []
    assert on(violations, "golden-image-stack-chain-pinned", root) == []
    # Prod only.
    assert chain_violations(analyze(dev, images)) == []


def test_a_grandchild_of_a_floating_root_is_floating(configured: PolicyHarness) -> None:
    images = chain("aws", 2, source=FLOATING["aws"])
    grandchild = images[2]
    assert grandchild.claim is not None and grandchild.claim["parentImage"] == FLOATING["aws"]
    violations = analyze(configured, images)
    assert on(violations, "golden-image-platform-chain-pinned", grandchild)
    [walked] = on(violations, "golden-image-stack-chain-pinned", grandchild)
    assert "chain layer1@2.1.0 → base-ubuntu@1.4.2, whose root starts from 'ssm:" in walked


def test_a_grandchild_claiming_a_pinned_root_is_judged_by_the_stack(configured: PolicyHarness) -> None:
    """The claim says pinned; the chain in the stack floats: the stack rule reports both facts."""
    images = chain("gcp", 2, source=FLOATING["gcp"])
    grandchild = images[2]
    assert grandchild.claim is not None
    grandchild.claim["parentImage"] = PINNED["gcp"]
    violations = analyze(configured, images)
    assert on(violations, "golden-image-platform-chain-pinned", grandchild) == []  # its own claim is pinned
    walked = on(violations, "golden-image-stack-chain-pinned", grandchild)
    assert any(f"whose root starts from {FLOATING['gcp']!r}" in m for m in walked), walked
    assert any(
        f"claims its chain starts from {PINNED['gcp']!r}, but its chain in this stack" in m
        and f"starts from {FLOATING['gcp']!r}" in m
        for m in walked
    ), walked


def test_an_unpinned_root_makes_the_chain_floating(configured: PolicyHarness) -> None:
    """A root component in the stack with no parent reference is not pinned (fail closed), whatever the claim."""
    images = chain("proxmox", 1)
    images[0].drop_source = True
    violations = analyze(configured, images)
    walked = on(violations, "golden-image-stack-chain-pinned", images[1])
    assert any("whose root starts from no pinned parent" in m for m in walked), walked


# --- encryption along the chain ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "weak"), [("azure", "platform-default"), ("proxmox", "none")])
def test_a_child_above_its_parents_level_is_judged_at_the_parents(
    configured: PolicyHarness, dev: PolicyHarness, platform: str, weak: str
) -> None:
    images = chain(platform, 1, encryption=weak)
    root, child = images
    assert child.encryption in ("enforced", "attested")
    violations = analyze(configured, images)
    [claimed] = on(violations, "golden-image-platform-chain-encryption-in-prod", child)
    assert f"reports encryption {weak!r}; a child is judged at the lowest level" in claimed
    assert f"so its effective level is {weak!r}" in claimed
    [walked] = on(violations, "golden-image-stack-chain-encryption-in-prod", child)
    assert f"where {KIND_LABEL[platform]} '{root.name}' reports {weak!r}" in walked
    # The weak root is reported by the platform rule, the child only by the chain rules.
    assert on(violations, "golden-image-platform-encryption-in-prod", root)
    assert on(violations, "golden-image-platform-encryption-in-prod", child) == []
    assert chain_violations(analyze(dev, images)) == []


KIND_LABEL = {
    "aws": "AWS golden image",
    "azure": "Azure golden image",
    "gcp": "GCP golden image",
    "proxmox": "Proxmox golden template",
}


def test_a_grandchild_of_a_weak_root_is_judged_at_the_roots_level(configured: PolicyHarness) -> None:
    images = chain("azure", 2, encryption="platform-default")
    root, _, grandchild = images
    violations = analyze(configured, images)
    # Its own claim names an enforced parent; the stack shows the weak root two levels up.
    assert on(violations, "golden-image-platform-chain-encryption-in-prod", grandchild) == []
    [walked] = on(violations, "golden-image-stack-chain-encryption-in-prod", grandchild)
    assert "chain layer1@2.1.0 → base-ubuntu@1.4.2" in walked
    assert f"'{root.name}' reports 'platform-default'" in walked
    assert "effective encryption level is 'platform-default'" in walked


# --- the claim disagrees with the stack --------------------------------------------------------------------------


def test_a_claimed_fingerprint_the_stack_contradicts_is_reported(configured: PolicyHarness) -> None:
    images = chain("proxmox", 1)
    root, child = images
    assert child.claim is not None
    child.claim["fingerprint"] = "0" * 64
    violations = analyze(configured, images)
    [message] = on(violations, "golden-image-stack-chain-pinned", child)
    assert f"claims golden parent base-ubuntu@1.4.2 with fingerprint {'0' * 64!r}" in message
    assert f"has fingerprint {root.fingerprint!r}" in message
    assert "rebuild the child from the parent in this stack" in message
    assert chain_violations(violations) == of(violations, "golden-image-stack-chain-pinned")


def test_a_claimed_encryption_the_stack_contradicts_is_reported(configured: PolicyHarness) -> None:
    """The child claims an enforced parent; the parent in the stack reports platform-default."""
    root = Image("azure", "base-ubuntu", "1.4.2", encryption="platform-default")
    child = Image("azure", "app-runtime", "2.1.0", parent=root)
    assert child.claim is not None
    child.claim["encryption"] = "enforced"
    violations = analyze(configured, [root, child])
    assert (
        on(violations, "golden-image-platform-chain-encryption-in-prod", child) == []
    )  # the claim looks fine
    walked = on(violations, "golden-image-stack-chain-encryption-in-prod", child)
    assert any("claims golden parent base-ubuntu@1.4.2 reports encryption 'enforced'" in m for m in walked)
    assert any("reports 'platform-default'" in m and "effective encryption level" in m for m in walked)


# --- the parent exists ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", sorted(KINDS))
def test_a_parent_missing_from_the_stack_is_reported_in_every_environment(
    configured: PolicyHarness, dev: PolicyHarness, platform: str
) -> None:
    _, child = chain(platform, 1)
    for harness in (configured, dev):
        violations = analyze(harness, [child])
        [message] = on(violations, "golden-image-stack-parent-exists", child)
        assert "builds on golden parent base-ubuntu@1.4.2, which is neither in this stack" in message
        assert "add base-ubuntu@1.4.2 to this stack's catalog" in message
        assert "goldenParent.registry" in message


def test_a_parent_of_another_version_or_platform_does_not_count(configured: PolicyHarness) -> None:
    root, child = chain("gcp", 1)
    other_version = Image("gcp", "base-ubuntu", "1.4.3")
    other_platform = Image("aws", "base-ubuntu", "1.4.2")
    violations = analyze(configured, [other_version, other_platform, child])
    assert on(violations, "golden-image-stack-parent-exists", child)
    assert on(analyze(configured, [root, child]), "golden-image-stack-parent-exists", child) == []


def test_a_registry_parent_need_not_be_in_the_stack(configured: PolicyHarness, dev: PolicyHarness) -> None:
    _, child = chain("aws", 1)
    assert child.claim is not None
    child.claim["registry"] = "org/golden-images/prod"
    for harness in (configured, dev):
        assert chain_violations(analyze(harness, [child])) == []


def test_a_registry_parent_is_judged_by_its_claim(configured: PolicyHarness) -> None:
    _, child = chain("azure", 1, source=FLOATING["azure"], encryption="platform-default")
    assert child.claim is not None
    child.claim["registry"] = "org/golden-images/prod"
    violations = analyze(configured, [child])
    assert on(violations, "golden-image-stack-parent-exists", child) == []
    [walked] = on(violations, "golden-image-stack-chain-pinned", child)
    assert "base-ubuntu@1.4.2 (registry org/golden-images/prod)" in walked
    [weak] = on(violations, "golden-image-stack-chain-encryption-in-prod", child)
    assert "where golden parent base-ubuntu@1.4.2 reports 'platform-default'" in weak


def test_claims_that_point_at_each_other_do_not_loop(configured: PolicyHarness) -> None:
    first = Image("gcp", "base-ubuntu", "1.4.2")
    second = Image("gcp", "app-runtime", "2.1.0", parent=first)
    first.claim = second.as_parent()
    violations = analyze(configured, [first, second])
    assert of(violations, "golden-image-stack-parent-exists") == []
    assert of(violations, "golden-image-stack-chain-pinned") == []


# --- malformed and unknown claims --------------------------------------------------------------------------------


def _claim(**changes: Any) -> dict[str, Any]:
    claim = chain("gcp", 1)[1].claim
    assert claim is not None
    for key, value in changes.items():
        if value is None:
            del claim[key]
        else:
            claim[key] = value
    return claim


MALFORMED = [
    ("base-ubuntu@1.4.2", "registers a goldenParent that is 'base-ubuntu@1.4.2', not a mapping"),
    (["base-ubuntu", "1.4.2"], "that is ['base-ubuntu', '1.4.2'], not a mapping"),
    (_claim(fingerprint=["ab"]), "fingerprint is ['ab'], not a non-blank string"),
    (_claim(fingerprint=None), "missing fingerprint"),
    (_claim(image=None, parentImage=None), "missing image, parentImage"),
    (_claim(fingerprint=42), "is malformed (fingerprint is 42"),
    (_claim(image="  "), "image is '  ', not a non-blank string"),
    (_claim(version="latest"), "version 'latest' is not MAJOR.MINOR.PATCH"),
    (_claim(encryption="strong"), "encryption 'strong' is not a known level"),
    (_claim(registry=""), "registry is '', not a non-blank string"),
]


@pytest.mark.parametrize(("claim", "expected"), MALFORMED, ids=lambda x: str(x)[:30])
def test_a_malformed_claim_is_reported_not_passed(
    configured: PolicyHarness, dev: PolicyHarness, claim: Any, expected: str
) -> None:
    root, child = chain("gcp", 1)
    child.claim = claim
    violations = analyze(configured, [root, child])
    for policy in (
        "golden-image-platform-chain-pinned",
        "golden-image-platform-chain-encryption-in-prod",
        "golden-image-stack-parent-exists",
    ):
        [message] = on(violations, policy, child)
        assert expected in message, (policy, message)
        assert "register goldenParent as a mapping of non-blank strings" in message
    # In dev only the stack rule runs, and it still refuses the claim.
    assert [v.policy for v in chain_violations(analyze(dev, [root, child]))] == [
        "golden-image-stack-parent-exists"
    ]


@pytest.mark.parametrize("path", ["", "fingerprint", "parentImage"])
def test_an_unknown_claim_is_only_a_preview_notice(configured: PolicyHarness, path: str) -> None:
    root, child = chain("aws", 1, source=FLOATING["aws"])
    if path:
        assert child.claim is not None
        child.claim[path] = UNKNOWN
    else:
        child.claim = UNKNOWN
    violations = analyze(configured, [root, child])
    assert chain_violations(violations) == []
    notices = [v for v in of(violations, "golden-image-platform-chain-pinned") if v.urn == child.urn]
    assert notices and all(is_preview_notice(v) for v in notices), notices


def test_apply_everywhere_runs_the_prod_chain_rules_on_dev(dev: PolicyHarness) -> None:
    prod_rules = CHAIN_POLICIES - {"golden-image-stack-parent-exists"}
    images = chain("azure", 2, source=FLOATING["azure"], encryption="platform-default")
    _, child, grandchild = images
    assert chain_violations(analyze(dev, images)) == []
    config = {name: {"applyEverywhere": True} for name in prod_rules}
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="dev", config=config) as harness:
        found = {(v.policy, v.urn) for v in chain_violations(analyze(harness, images))}
    # The grandchild's own claim names an enforced parent, so only the stack rule sees its weak root.
    assert found == {(policy, image.urn) for policy in prod_rules for image in (child, grandchild)} - {
        ("golden-image-platform-chain-encryption-in-prod", grandchild.urn)
    }


def test_a_child_below_its_parents_level_keeps_its_own(configured: PolicyHarness) -> None:
    root, child = chain("azure", 1, encryption="platform-default")
    child.encryption = "none"
    violations = analyze(configured, [root, child])
    [claimed] = on(violations, "golden-image-platform-chain-encryption-in-prod", child)
    assert "so its effective level is 'none'" in claimed
    assert on(violations, "golden-image-platform-encryption-in-prod", child)


def test_a_chain_through_a_registry_parent_ends_at_its_claim(configured: PolicyHarness) -> None:
    """The middle image is in the stack, its own parent is a registry entry with a floating source."""
    middle = Image("gcp", "app-runtime", "2.1.0")
    middle.claim = {
        **Image("gcp", "base-ubuntu", "1.4.2", source=FLOATING["gcp"]).as_parent(),
        "registry": "org/golden-images/prod",
    }
    leaf = Image("gcp", "app-worker", "3.0.1", parent=middle)
    assert leaf.claim is not None
    leaf.claim["parentImage"] = FLOATING["gcp"]  # what golden_parent_prop copies from the middle's claim
    violations = analyze(configured, [middle, leaf])
    assert of(violations, "golden-image-stack-parent-exists") == []
    [walked] = on(violations, "golden-image-stack-chain-pinned", leaf)
    assert "chain app-runtime@2.1.0 → base-ubuntu@1.4.2 (registry org/golden-images/prod)" in walked
    assert f"whose root starts from {FLOATING['gcp']!r}" in walked


def test_a_claim_weaker_than_the_stack_is_a_disagreement_not_the_grandchilds_level(
    configured: PolicyHarness,
) -> None:
    """The middle claims its root reports 'none'; the root in the stack is enforced: the middle's claim is
    contradicted, and the grandchild's chain in the stack is fully encrypted."""
    root, middle, leaf = chain("aws", 2)
    assert middle.claim is not None
    middle.claim["encryption"] = "none"
    violations = analyze(configured, [root, middle, leaf])
    assert on(violations, "golden-image-stack-chain-encryption-in-prod", leaf) == []
    [disagreement] = on(violations, "golden-image-stack-chain-encryption-in-prod", middle)
    assert "reports encryption 'none', but" in disagreement and "reports 'enforced'" in disagreement
    assert on(violations, "golden-image-platform-chain-encryption-in-prod", middle)


def test_a_malformed_link_up_the_chain_stops_the_stack_walk(configured: PolicyHarness) -> None:
    """The middle's claim is malformed (reported on the middle); the stack rules do not guess past it."""
    root, middle, leaf = chain("azure", 2)
    middle.claim = "base-ubuntu@1.4.2"
    assert leaf.claim is not None
    leaf.claim.update(parentImage=FLOATING["azure"], encryption="platform-default")
    violations = analyze(configured, [root, middle, leaf])
    for policy in ("golden-image-stack-chain-pinned", "golden-image-stack-chain-encryption-in-prod"):
        assert on(violations, policy, leaf) == [], policy
    # The leaf's own claim is still judged, and the middle's malformed claim reported.
    assert on(violations, "golden-image-platform-chain-pinned", leaf)
    assert on(violations, "golden-image-platform-chain-encryption-in-prod", leaf)
    assert on(violations, "golden-image-stack-parent-exists", middle)


def test_a_component_of_unknown_identity_may_be_the_parent(configured: PolicyHarness) -> None:
    """During a preview a component whose version is unknown might be the parent: not reported missing."""
    _, child = chain("proxmox", 1)
    unknown = Image("proxmox", "base-ubuntu", "9.9.9")
    resources = [unknown.registered(), child.registered()]
    resources[0].outputs["lineage"]["version"] = UNKNOWN
    resources[0].inputs["version"] = UNKNOWN
    assert of(configured.analyze(resources), "golden-image-stack-parent-exists") == []
    assert of(configured.analyze([child.registered()]), "golden-image-stack-parent-exists")


def test_only_platform_components_are_judged(configured: PolicyHarness) -> None:
    """A resource of another type carrying a goldenParent-like prop is none of these rules' business."""
    _, child = chain("gcp", 1)
    registered = child.registered()
    other = RegisteredResource(
        urn=f"urn:pulumi:prod::{PROJECT}::golden-images:index:GoldenImage::app-runtime",
        type="golden-images:index:GoldenImage",
        name="app-runtime",
        parent="",
        custom=False,
        inputs={**compliant("golden_image"), "goldenParent": registered.inputs["goldenParent"]},
    )
    assert chain_violations(configured.analyze([other])) == []
