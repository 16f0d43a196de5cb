"""Pulumi type tokens of this package's components: the one place the components, the policy pack, the
plugin and the tests spell them."""

from __future__ import annotations

from typing import Final

PACKAGE: Final = "golden-images"
GOLDEN_IMAGE: Final = f"{PACKAGE}:index:GoldenImage"
AWS_GOLDEN_IMAGE: Final = f"{PACKAGE}:index:AwsGoldenImage"
AZURE_GOLDEN_IMAGE: Final = f"{PACKAGE}:index:AzureGoldenImage"
GCP_GOLDEN_IMAGE: Final = f"{PACKAGE}:index:GcpGoldenImage"
PROXMOX_GOLDEN_TEMPLATE: Final = f"{PACKAGE}:index:ProxmoxGoldenTemplate"

#: Platform name → the token of its component (what ``GoldenImage`` creates one of per section).
PLATFORM_TOKENS: Final[dict[str, str]] = {
    "aws": AWS_GOLDEN_IMAGE,
    "azure": AZURE_GOLDEN_IMAGE,
    "gcp": GCP_GOLDEN_IMAGE,
    "proxmox": PROXMOX_GOLDEN_TEMPLATE,
}

#: The project's config namespace (``golden-images:<key>`` in stack files).
CONFIG_NAMESPACE: Final = PACKAGE
