"""Plain data (``golden_images.api``) as the plugin and other repos' Python programs pass it: what it cannot
express is refused with a sentence in the caller's terms."""

from __future__ import annotations

from typing import Any

import pytest

from golden_images.api import ImageArgsError, image_build, image_json_schema


def _args(**aws: Any) -> dict[str, Any]:
    return {
        "environment": "dev",
        "version": "1.0.0",
        "description": "child image",
        "os": {"family": "ubuntu", "release": "24.04", "lts": True},
        "provision": [{"shell": "true"}],
        "tags": {"owner": "web-team", "cost-center": "cc-1"},
        "aws": {"regions": ["us-east-1"], "kms_keys": {"us-east-1": "alias/golden-images"}, **aws},
    }


def test_a_golden_parent_is_refused_with_what_to_do_instead() -> None:
    with pytest.raises(ImageArgsError) as refused:
        image_build("child", _args(parent={"image": "base-ubuntu"}))
    [issue] = refused.value.issues
    assert (issue.file, issue.path) == ("GoldenImage(child)", "aws.parent.image")
    assert issue.message.startswith("parent image 'base-ubuntu' is not in this catalog")
    assert issue.message.endswith(
        "; plain data holds one image, so a golden parent cannot be named here: build layered images from a "
        "stack-file catalog, or use the parent's baked image (ami / image_builder_arn) instead"
    )


def test_other_messages_keep_their_words() -> None:
    with pytest.raises(ImageArgsError) as refused:
        image_build("child", _args(parent={"ami": "ami-0123456789abcdef0"}) | {"tags": {"owner": "web-team"}})
    [issue] = refused.value.issues
    assert issue.path == "tags"
    assert "set them in tags" in issue.message and "defaults.tags" not in issue.message
    assert "plain data holds one image" not in issue.message


def test_image_json_schema_is_the_catalog_entry_by_catalog_keys() -> None:
    schema = image_json_schema()
    assert "validate" in schema["properties"] and "validate_steps" not in schema["properties"]
    assert set(schema["required"]) == {"name", "version", "description", "os", "provision"}
    assert {"AwsSpec", "AzureSpec", "GcpSpec", "ProxmoxSpec"} <= set(schema["$defs"])
