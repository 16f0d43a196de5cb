"""Values the pack cannot use are shown in messages as the plain data the program registered.

The SDK hands rules mapping and list proxies whose ``repr`` is a memory address (``<… _ListProxy object at
0x…>``): unreadable, and different on every run. ``props.shown`` renders them as lists and dicts; these cases
send a list or an object where the rule wants a string, through the running pack.
"""

from __future__ import annotations

import pytest
from policy_support import messages

from golden_images.engine.harness import PolicyHarness
from golden_images_policies.props import UNKNOWN, plain, shown


def test_plain_data_is_shown_as_is() -> None:
    assert shown("x") == "'x'"
    assert shown(["scsi0", {"a": 1.0}]) == "['scsi0', {'a': 1.0}]"
    assert plain((1, 2)) == [1, 2]
    assert plain(UNKNOWN) is UNKNOWN


@pytest.mark.parametrize(
    ("kind", "changes", "policy", "expected"),
    [
        (
            "image_recipe",
            {"blockDeviceMappings.0.ebs.encrypted": ["true"]},
            "aws-imagebuilder-recipe-ebs-encrypted",
            "['true']",
        ),
        (
            "aws_golden_image",
            {"parentImage": {"ami": "ami-0a1b2c3d4e5f60718"}},
            "golden-image-platform-parent-pinned",
            "the floating parent {'ami': 'ami-0a1b2c3d4e5f60718'}",
        ),
        (
            "golden_image",
            {"os.family": ["ubuntu"]},
            "golden-image-os-lts-in-prod",
            "(os.family is ['ubuntu'])",
        ),
    ],
    ids=["ebs-encrypted-list", "parent-object", "os-family-list"],
)
def test_containers_are_shown_as_plain_data(
    configured: PolicyHarness, kind: str, changes: dict[str, object], policy: str, expected: str
) -> None:
    found = messages(configured, kind, changes, policy)
    assert found and all("object at 0x" not in m for m in found), found
    assert any(expected in m for m in found), found
