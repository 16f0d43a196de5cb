"""The pack's wire sentinels are the engine's: literal values, and the Pulumi SDK's own constants agree."""

from __future__ import annotations

from pulumi.runtime import rpc

from golden_images_policies import wire


def test_sentinels_are_the_engines() -> None:
    assert wire.UNKNOWN == "04da6b54-80e4-46f7-96ec-b56ff0331ba9" == rpc.UNKNOWN
    assert wire.UNKNOWN_ARRAY == "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"
    assert wire.SIG == "4dabf18193072939515e22adb298388d" == rpc._special_sig_key
    assert wire.SECRET_SIG == "1b47061264138c4ac30d75fd1eb44270" == rpc._special_secret_sig
    assert wire.OUTPUT_SIG == "d0e6a833031e9bbcd3f4e8bde6ca49a4" == rpc._special_output_value_sig
    assert wire.RESOURCE_SIG == "5cf8f73096256a8f31e491e813e4eb8e" == rpc._special_resource_sig
