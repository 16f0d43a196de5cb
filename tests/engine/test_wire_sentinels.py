"""The wire sentinels of ``golden_images.core.wire`` are the Pulumi SDK's own values (written once in the
repo, checked here against the SDK that marshals them)."""

from __future__ import annotations

from pulumi.runtime import rpc

from golden_images.core import wire


def test_sentinels_match_the_pulumi_sdk() -> None:
    assert wire.SIG == rpc._special_sig_key
    assert wire.SECRET_SIG == rpc._special_secret_sig
    assert wire.OUTPUT_SIG == rpc._special_output_value_sig
    assert wire.RESOURCE_SIG == rpc._special_resource_sig
    assert wire.UNKNOWN == rpc.UNKNOWN
