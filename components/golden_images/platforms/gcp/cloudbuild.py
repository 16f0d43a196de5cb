"""The Cloud Build build that bakes an image: fetch and verify the objects, run Packer, verify the image
(pure: step definitions as plain data; the component turns them into provider ``*Args``).

Steps use Cloud Build's ``script`` field rather than ``args``: scripts are not subject to ``$VAR``
substitution, so shell variables need no ``$$`` escaping.

1. ``fetch`` (gcloud image): skip the bake when the expected image already exists (a scheduled run is then a
   no-op), otherwise download every object and check each against the sha256 in its name.
2. ``bake`` (Packer image): install the ``googlecompute`` plugin at the pinned version, then
   ``packer build`` the template.
3. ``verify`` (gcloud image): read the image back and fail unless it is in the family, encrypted with the
   CMEK key, and carries every required guest OS feature.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from golden_images.core.fingerprint import digest
from golden_images.platforms.gcp.packer import RenderedBuild
from golden_images.platforms.gcp.spec import GcpSpec

PLUGIN_SOURCE = "github.com/hashicorp/googlecompute"
#: Marker file the fetch step leaves when the image already exists.
SKIP_MARKER = ".golden-images-skip"


@dataclass(frozen=True)
class BuildStep:
    """One Cloud Build step: ``id``, container ``image`` and the bash ``script`` it runs."""

    id: str
    image: str
    script: str
    env: tuple[str, ...] = ()


def _q(value: str) -> str:
    return shlex.quote(value)


def fetch_script(spec: GcpSpec, rendered: RenderedBuild, bucket: str) -> str:
    """Skip if the image exists; else download every object and verify it against its content hash."""
    lines = [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        f"if gcloud compute images describe {_q(rendered.image_name)} --project={_q(spec.project)} "
        "--format='value(name)' >/dev/null 2>&1; then",
        f"  echo {_q(f'image {rendered.image_name} already exists; nothing to bake')}",
        f"  touch {SKIP_MARKER}",
        "  exit 0",
        "fi",
        "mkdir -p steps files templates",
    ]
    for obj in rendered.objects:
        lines.append(f"gcloud storage cp {_q(f'gs://{bucket}/{obj.path}')} {_q(obj.path)}")
    checks = "\n".join(f"{obj.sha256}  {obj.path}" for obj in rendered.objects)
    lines.append(f"sha256sum --check --strict - <<'GOLDEN_IMAGES_SUMS'\n{checks}\nGOLDEN_IMAGES_SUMS")
    return "\n".join(lines) + "\n"


def bake_script(spec: GcpSpec, rendered: RenderedBuild) -> str:
    """Install the pinned googlecompute plugin, then build the template (Packer's default ``-on-error=cleanup``
    deletes the build VM and disk on failure)."""
    return (
        "\n".join(
            [
                "#!/bin/sh",
                "set -eu",
                f"if [ -f {SKIP_MARKER} ]; then echo 'image exists; skipping the bake'; exit 0; fi",
                f"packer plugins install {PLUGIN_SOURCE} v{spec.builder.plugin_version}",
                f"packer build -color=false -on-error=cleanup {_q(rendered.template_object.path)}",
            ]
        )
        + "\n"
    )


def verify_script(spec: GcpSpec, rendered: RenderedBuild) -> str:
    """Fail the build unless the image is in its family, encrypted with the CMEK key and has the features."""
    describe = f"gcloud compute images describe {_q(rendered.image_name)} --project={_q(spec.project)}"
    lines = [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        f"family=\"$({describe} --format='value(family)')\"",
        f'if [ "$family" != {_q(rendered.family)} ]; then echo "image is in family $family, not '
        f'{rendered.family}" >&2; exit 1; fi',
        f"key=\"$({describe} --format='value(imageEncryptionKey.kmsKeyName)')\"",
        # The API reports the key version used (…/cryptoKeyVersions/N); the key itself must match.
        f'case "$key" in {_q(spec.kms_key)}|{_q(spec.kms_key)}/cryptoKeyVersions/*) ;; '
        f"*) echo \"image is encrypted with '$key', not the CMEK key {spec.kms_key}\" >&2; exit 1;; esac",
        f"features=\"$({describe} --format='value(guestOsFeatures[].type)')\"",
    ]
    for feature in spec.guest_os_features:
        lines.append(
            f'case ";$features;" in *";{feature};"*) ;; *) echo "image lacks guest OS feature {feature} '
            f'(the source image must provide it)" >&2; exit 1;; esac'
        )
    lines.append(f"echo {_q(f'verified {rendered.image_name}: family, CMEK key and guest OS features')}")
    return "\n".join(lines) + "\n"


def build_steps(spec: GcpSpec, rendered: RenderedBuild, bucket: str) -> tuple[BuildStep, ...]:
    """The three steps of the bake, in order."""
    return (
        BuildStep("fetch", spec.builder.gcloud_image, fetch_script(spec, rendered, bucket)),
        BuildStep(
            "bake",
            spec.builder.packer_image,
            bake_script(spec, rendered),
            # Plugins live in the shared workspace; no update checks from inside the build.
            env=("PACKER_PLUGIN_PATH=/workspace/.packer-plugins", "CHECKPOINT_DISABLE=1"),
        ),
        BuildStep("verify", spec.builder.gcloud_image, verify_script(spec, rendered)),
    )


def bucket_name(project: str, image: str, environment: str) -> str:
    """The build bucket: ``gi-<image>-<env>-<8 hex of project, image, env>`` (≤ 63 chars; bucket names are
    global, so the hash keeps two projects' buckets apart)."""
    return f"gi-{image}-{environment}-{digest([project, image, environment])[:8]}"
