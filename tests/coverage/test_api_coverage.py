"""Plain data (``golden_images.api.image_build``) refused in the caller's terms for the fields the catalog
keeps outside the image entry: args that are not a mapping, the environment and ``required_tags`` (the
catalog's ``defaults.required_tags``), and the missing-tag sentence, which must not point at a
``defaults.tags`` plain data does not have."""

from __future__ import annotations

from typing import Any

import pytest

from golden_images.api import ImageArgsError, image_build


def _args(**extra: Any) -> dict[str, Any]:
    return {
        "environment": "dev",
        "version": "1.0.0",
        "description": "web image",
        "os": {"family": "ubuntu", "release": "24.04", "lts": True},
        "provision": [{"shell": "true"}],
        "tags": {"owner": "web-team", "cost-center": "cc-1"},
        "aws": {
            "regions": ["us-east-1"],
            "kms_keys": {"us-east-1": "alias/golden-images"},
            "parent": {"ami": "ami-0123456789abcdef0"},
        },
        **extra,
    }


def _issues(args: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(ImageArgsError) as caught:
        image_build("web", args)
    return [(i.file, i.path, i.message) for i in caught.value.issues]


def test_args_that_are_not_a_mapping_are_refused_naming_the_type() -> None:
    assert _issues(["web"]) == [("GoldenImage(web)", "(args)", "args must be a mapping, not a list")]


def test_a_bad_environment_is_named_as_the_callers_field() -> None:
    assert _issues(_args(environment="qa")) == [
        ("GoldenImage(web)", "environment", "Input should be 'dev', 'staging' or 'prod'")
    ]


def test_required_tags_errors_are_named_as_the_callers_field() -> None:
    assert _issues(_args(required_tags="owner")) == [
        ("GoldenImage(web)", "required_tags", "Input should be a valid array")
    ]


def test_a_missing_required_tag_says_to_set_it_in_tags_not_in_defaults() -> None:
    ((file, path, message),) = _issues(_args(required_tags=["owner", "team"]))
    assert (file, path) == ("GoldenImage(web)", "tags")
    assert message.endswith("set them in tags")
    assert "'team'" in message and "defaults" not in message


def test_the_same_args_with_the_tag_set_build() -> None:
    """Positive control for the refusals above: the args are otherwise valid."""
    build = image_build("web", _args(required_tags=["owner", "team"], tags={"owner": "w", "team": "t"}))
    assert build.image.name == "web"
    assert build.environment == "dev"
