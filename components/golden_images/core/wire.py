"""The engine's property-value wire sentinels (``sdk/go/common/resource/sig`` and ``plugin/rpc.go``).

Written once here, for everything that builds or reads raw engine properties: the analyzer harness, the policy
pack's tests and the benchmarks' floor program. A test checks them against the Pulumi SDK's own copies.
"""

from __future__ import annotations

from typing import Final

#: The key marking a special object (secret, output value, resource reference, asset, archive).
SIG: Final = "4dabf18193072939515e22adb298388d"
#: ``{SIG: SECRET_SIG, "value": ...}``: a secret.
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
#: ``{SIG: OUTPUT_SIG, "value"?: ..., "secret"?: bool, "dependencies"?: [...]}``: an output value.
OUTPUT_SIG: Final = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
#: ``{SIG: RESOURCE_SIG, "urn": ..., "id"?: ...}``: a resource reference.
RESOURCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
#: A value that is not known during preview.
UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
