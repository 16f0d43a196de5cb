"""The wire sentinels of ``golden_images.core.wire`` are the Pulumi SDK's own values (written once in the
repo, checked here against the SDK that marshals them)."""

from __future__ import annotations

from pulumi.runtime import rpc

from golden_images.core import wire


def test_sentinels_match_the_pulumi_sdk() -> None:
    assert rpc._special_sig_key == wire.SIG
    assert rpc._special_secret_sig == wire.SECRET_SIG
    assert rpc._special_output_value_sig == wire.OUTPUT_SIG
    assert rpc._special_resource_sig == wire.RESOURCE_SIG
    assert wire.UNKNOWN == rpc.UNKNOWN
