"""The full list of policies in the golden-images pack (``policies/__main__.py`` builds the pack from it)."""

from __future__ import annotations

from pulumi_policy import Policy

from . import aws_dlm, aws_ec2, aws_imagebuilder, azure, gcp, golden_image, launch, proxmox, stack

PACK_NAME = "golden-images"


def all_policies() -> list[Policy]:
    """Every policy, in a stable order (platform modules first, then our components, then stack rules)."""
    return [
        *aws_imagebuilder.POLICIES,
        *aws_ec2.POLICIES,
        *aws_dlm.POLICIES,
        *azure.POLICIES,
        *gcp.POLICIES,
        *proxmox.POLICIES,
        *golden_image.POLICIES,
        *launch.POLICIES,
        *stack.POLICIES,
    ]
