"""Verdicts, word for word, for the mutants of ``stack.py`` and ``tagging.py`` (issue 21, docs/testing.md
"Mutation testing"): the stack rule's identity lookup (inputs, ``record`` and ``versionRecord`` outputs), its
limit and the majors it names; the tag rule's allowed values, empty allow-lists, unknown and non-string values
and the environment tag. Expectations are literal sentences and URNs, never computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from policy_factories import UNKNOWN, compliant, tags
from policy_support import CONFIGURED, PACK_DIR, PROJECT, messages

from golden_images.engine.harness import PolicyHarness
from golden_images.engine.model import RegisteredResource

MAJORS = "golden-image-stack-max-concurrent-majors"
TAGS = "golden-image-required-tags"
GOLDEN_IMAGE = "golden-images:index:GoldenImage"
AWS_GOLDEN_IMAGE = "golden-images:index:AwsGoldenImage"

#: The configured pack plus a limit of two majors and a tag config with an allow-list and an empty one.
LIMITED = {
    **CONFIGURED,
    MAJORS: {"maxConcurrentMajors": 2},
    TAGS: {
        "requiredTagKeys": ["owner", "team"],
        "allowedTagValues": {"owner": ["platform", "security"], "team": []},
    },
}


@pytest.fixture(scope="module")
def limited() -> Iterator[PolicyHarness]:
    """A prod stack with :data:`LIMITED` as the pack config."""
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="prod", config=LIMITED) as harness:
        yield harness


def _component(
    n: int, inputs: dict[str, Any], outputs: dict[str, Any] | None = None, type_: str = GOLDEN_IMAGE
) -> RegisteredResource:
    """A component resource with a fixed URN ``...::img-<n>``; ``outputs`` (when given) is what AnalyzeStack
    sends instead of the inputs, as the engine sends state outputs."""
    return RegisteredResource(
        urn=f"urn:pulumi:prod::{PROJECT}::{type_}::img-{n}",
        type=type_,
        name=f"img-{n}",
        parent="",
        custom=False,
        inputs=inputs,
        outputs=outputs or {},
    )


def _image(n: int, name: Any, version: Any, type_: str = GOLDEN_IMAGE) -> RegisteredResource:
    return _component(n, {**compliant("golden_image"), "imageName": name, "version": version}, type_=type_)


def _stack_rows(harness: PolicyHarness, resources: list[RegisteredResource]) -> list[tuple[str, str]]:
    """``(message, urn)`` of every stack-rule violation, in the order the pack reports them."""
    return [(v.message, v.urn) for v in harness.analyze(resources) if v.policy == MAJORS]


def _urn(n: int, type_: str = GOLDEN_IMAGE) -> str:
    return f"urn:pulumi:prod::{PROJECT}::{type_}::img-{n}"


# --- stack.py ------------------------------------------------------------------------------------------------


def test_limit_two_names_the_two_oldest_majors_on_the_first_resource_of_the_oldest(
    limited: PolicyHarness,
) -> None:
    resources = [
        _image(1, "base", "10.0.0"),
        _image(2, "base", "2.0.0"),
        _image(3, "base", "2.1.0"),
        _image(4, "base", "9.4.1"),
        _image(5, "base", "3.0.0"),
    ]
    assert _stack_rows(limited, resources) == [
        (
            "Golden image 'base' has 4 concurrent major versions (2, 3, 9, 10), more than the limit of 2; retire major version(s) 2, 3 or raise maxConcurrentMajors.",
            _urn(2),
        )
    ]


def test_exactly_the_limit_is_fine_and_one_more_is_not(limited: PolicyHarness) -> None:
    assert _stack_rows(limited, [_image(1, "base", "1.0.0"), _image(2, "base", "2.0.0")]) == []
    assert _stack_rows(
        limited, [_image(1, "base", "1.0.0"), _image(2, "base", "2.0.0"), _image(3, "base", "3.0.0")]
    ) == [
        (
            "Golden image 'base' has 3 concurrent major versions (1, 2, 3), more than the limit of 2; retire major version(s) 1 or raise maxConcurrentMajors.",
            _urn(1),
        )
    ]


def test_each_image_is_counted_on_its_own_and_reported_in_name_order(limited: PolicyHarness) -> None:
    resources = [
        _image(1, "web", "1.0.0"),
        _image(2, "web", "2.0.0"),
        _image(3, "web", "3.0.0"),
        _image(4, "base", "4.0.0"),
        _image(5, "base", "5.0.0"),
        _image(6, "base", "6.0.0"),
        _image(7, "db", "1.0.0"),
        _image(8, "db", "2.0.0"),
    ]
    assert _stack_rows(limited, resources) == [
        (
            "Golden image 'base' has 3 concurrent major versions (4, 5, 6), more than the limit of 2; retire major version(s) 4 or raise maxConcurrentMajors.",
            _urn(4),
        ),
        (
            "Golden image 'web' has 3 concurrent major versions (1, 2, 3), more than the limit of 2; retire major version(s) 1 or raise maxConcurrentMajors.",
            _urn(1),
        ),
    ]


def test_platform_components_count_and_other_resources_do_not(limited: PolicyHarness) -> None:
    resources = [
        _image(1, "base", "1.0.0", type_=AWS_GOLDEN_IMAGE),
        _image(2, "base", "2.0.0"),
        # Not a component: an AMI with the same-looking inputs is not a golden-image version.
        RegisteredResource(
            urn=f"urn:pulumi:prod::{PROJECT}::aws:ec2/ami:Ami::img-3",
            type="aws:ec2/ami:Ami",
            name="img-3",
            parent="",
            custom=True,
            inputs={"imageName": "base", "version": "3.0.0", "tags": tags()},
        ),
    ]
    assert _stack_rows(limited, resources) == []
    resources.append(_image(4, "base", "4.0.0"))
    assert _stack_rows(limited, resources) == [
        (
            "Golden image 'base' has 3 concurrent major versions (1, 2, 4), more than the limit of 2; retire major version(s) 1 or raise maxConcurrentMajors.",
            _urn(1, AWS_GOLDEN_IMAGE),
        )
    ]


def test_unknown_or_missing_name_and_unparsable_version_are_not_counted(limited: PolicyHarness) -> None:
    # The skipped resources come first: judging must go on past them.
    skipped = [
        _image(1, UNKNOWN, "1.0.0"),
        _image(2, None, "2.0.0"),
        _image(3, 5, "3.0.0"),
        _image(4, "base", "latest"),
        _image(5, "base", None),
        _image(6, "base", UNKNOWN),
    ]
    counted = [_image(7, "base", "7.0.0"), _image(8, "base", "8.0.0")]
    assert _stack_rows(limited, skipped + counted) == []
    assert _stack_rows(limited, [*skipped, *counted, _image(9, "base", "9.0.0")]) == [
        (
            "Golden image 'base' has 3 concurrent major versions (7, 8, 9), more than the limit of 2; retire major version(s) 7 or raise maxConcurrentMajors.",
            _urn(7),
        )
    ]


def test_identity_from_record_and_version_record_outputs(limited: PolicyHarness) -> None:
    resources = [
        # Name and version from the versionRecord output only.
        _component(1, {}, {"versionRecord": {"name": "app", "version": "1.0.0"}}),
        # Name from the outputs' imageName, version from the record.
        _component(2, {}, {"imageName": "app", "record": {"version": "2.0.0"}}),
        # The record is read before the versionRecord: its name and version win.
        _component(
            3,
            {},
            {
                "record": {"name": "app", "version": "3.0.0"},
                "versionRecord": {"name": "other", "version": "9.0.0"},
            },
        ),
        # Name from the record, version from the versionRecord.
        _component(4, {}, {"record": {"name": "app"}, "versionRecord": {"version": "4.0.0"}}),
    ]
    assert _stack_rows(limited, resources) == [
        (
            "Golden image 'app' has 4 concurrent major versions (1, 2, 3, 4), more than the limit of 2; retire major version(s) 1, 2 or raise maxConcurrentMajors.",
            _urn(1),
        )
    ]


def test_default_limit_is_three(configured: PolicyHarness) -> None:
    three = [_image(1, "base", "1.0.0"), _image(2, "base", "2.0.0"), _image(3, "base", "3.0.0")]
    assert _stack_rows(configured, three) == []
    assert _stack_rows(configured, [*three, _image(4, "base", "4.0.0")]) == [
        (
            "Golden image 'base' has 4 concurrent major versions (1, 2, 3, 4), more than the limit of 3; retire major version(s) 1 or raise maxConcurrentMajors.",
            _urn(1),
        )
    ]


# --- tagging.py (through the golden-image component's tag rule) -------------------------------------------

#: Tags passing :data:`LIMITED`'s tag config (owner on its allow-list, team's allow-list empty = any value).
GOOD = {**tags(), "team": "images"}

TAG_CASES = [
    pytest.param({"tags": GOOD}, [], id="allowed-owner-and-any-team"),
    pytest.param(
        {"tags": {**GOOD, "owner": "ops"}},
        [
            "golden image 'golden' sets 'owner' to 'ops' in its tags, which is not allowed; use one of: platform, security."
        ],
        id="owner-not-allowed",
    ),
    # An unknown value counts as present and is not compared with the allow-list.
    pytest.param({"tags": {**GOOD, "owner": UNKNOWN}}, [], id="unknown-owner"),
    pytest.param(
        {"tags": {**GOOD, "owner": 7}},
        [
            "golden image 'golden' is missing the required tags owner; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="non-string-owner-is-missing",
    ),
    pytest.param(
        {"tags": {"environment": "prod"}},
        [
            "golden image 'golden' is missing the required tags owner, team; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="both-required-missing",
    ),
    pytest.param(
        {"tags": ["owner", "team"]},
        [
            "golden image 'golden' is missing the required tags owner, team; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="tags-not-a-map",
    ),
    pytest.param({"tags": UNKNOWN}, [], id="unknown-tags"),
    pytest.param(
        {"tags": {**GOOD, "environment": "dev"}},
        [
            "golden image 'golden' is tagged environment 'dev' but is deployed by a prod stack; tag it with environment 'prod' or deploy it from the dev stack."
        ],
        id="environment-tag-mismatch",
    ),
    pytest.param({"tags": {**GOOD, "environment": UNKNOWN}}, [], id="unknown-environment-tag"),
    pytest.param(
        {"tags": {**GOOD, "owner": "ops", "environment": "staging"}},
        [
            "golden image 'golden' is tagged environment 'staging' but is deployed by a prod stack; tag it with environment 'prod' or deploy it from the staging stack.",
            "golden image 'golden' sets 'owner' to 'ops' in its tags, which is not allowed; use one of: platform, security.",
        ],
        id="owner-and-environment",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), TAG_CASES)
def test_tag_verdicts(limited: PolicyHarness, changes: dict[str, Any], expected: list[str]) -> None:
    assert messages(limited, "golden_image", changes, TAGS) == expected


def test_gcp_labels_say_labels(limited: PolicyHarness) -> None:
    labels = {k: v for k, v in compliant("gcp_image")["labels"].items() if k != "owner"}
    assert messages(limited, "gcp_image", {"labels": labels}, "gcp-compute-image-required-labels") == [
        "GCP image 'golden' is missing the required labels owner; add them with non-empty values (the golden-images tag renderer sets every required key)."
    ]
