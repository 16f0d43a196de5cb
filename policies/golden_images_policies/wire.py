"""The engine's wire sentinels, for everything in the pack and its tests that builds or reads raw properties.

The rules never see these (the SDK turns them into ``UnknownValueError`` proxies and secrets before a rule runs;
:data:`golden_images_policies.props.UNKNOWN` is the rules' marker). The values are the SDK's own where it exports
them; the output-value and resource-reference signatures are not exported by pulumi-policy, so they are written
here, once, as the engine defines them (``sdk/go/common/resource/sig``).
"""

from __future__ import annotations

from typing import Final

from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE

#: A string (or any scalar) value that is not known during preview.
UNKNOWN: Final[str] = UNKNOWN_STRING_VALUE
#: An array value that is not known during preview.
UNKNOWN_ARRAY: Final[str] = UNKNOWN_ARRAY_VALUE
#: The key marking a special object (secret, output value, resource reference, asset, archive).
SIG: Final[str] = SPECIAL_SIG_KEY
#: ``{SIG: SECRET_SIG, "value": ...}``: a secret.
SECRET_SIG: Final[str] = SPECIAL_SECRET_SIG
#: ``{SIG: OUTPUT_SIG, "value"?: ..., "secret"?: bool, "dependencies"?: [...]}``: an output value.
OUTPUT_SIG: Final = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
#: ``{SIG: RESOURCE_SIG, "urn": ..., "id"?: ...}``: a resource reference.
RESOURCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
