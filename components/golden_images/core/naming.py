"""Names per platform, derived from the image name, version and fingerprints (pure)."""

from __future__ import annotations

from golden_images.core.fingerprint import short


def builder_name(image: str, fingerprint: str) -> str:
    """Name of an immutable builder resource (Image Builder component/recipe, AIB template):
    ``<image>-<short fingerprint>``. A content change gives a new name, so the old resource is replaced
    instead of failing with "already exists"; unchanged content keeps the name and nothing churns."""
    return f"{image}-{short(fingerprint)}"


def ami_name(image: str, version: str) -> str:
    """AMI name template; Image Builder substitutes the build date so rebuilds of one version differ."""
    return f"{image}-{version}-{{{{ imagebuilder:buildDate }}}}"


def ssm_parameter_name(prefix: str, environment: str, image: str) -> str:
    """The SSM parameter holding the newest AMI id of ``image`` in each region."""
    return f"{prefix.rstrip('/')}/{environment}/{image}/ami-id"


def gcp_image_name(family: str, version: str, fingerprint: str) -> str:
    """GCP image name ``<family>-<version with dashes>-<short fingerprint>``, ≤63 chars (family is cut
    first so version and fingerprint survive)."""
    suffix = f"-{version.replace('.', '-')}-{short(fingerprint)}"
    return f"{family[: 63 - len(suffix)].rstrip('-')}{suffix}"
