"""IAM documents for the Image Builder roles (pure), kept beside the component so tests and docs read them.

Least privilege, documented:

* build instance role: the two AWS-managed policies Image Builder documents for build instances,
  ``EC2InstanceProfileForImageBuilder`` and ``AmazonSSMManagedInstanceCore``, plus one inline statement
  allowing ``kms:Decrypt`` on the build region's customer key (the instance decrypts the component document,
  which is encrypted with that key). Nothing broader.
* lifecycle role: the AWS-managed ``EC2ImageBuilderLifecycleExecutionPolicy`` only.
"""

from __future__ import annotations

import json

MANAGED_INSTANCE_POLICIES: tuple[str, ...] = (
    "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)
MANAGED_LIFECYCLE_POLICIES: tuple[str, ...] = (
    "arn:aws:iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy",
)


def assume_role_policy(service: str) -> str:
    """Trust policy letting ``service`` (e.g. ``ec2.amazonaws.com``) assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        },
        sort_keys=True,
    )


def component_key_policy(key: str) -> str:
    """Inline policy: decrypt the component document with the build region's customer key, nothing else.

    A key ARN becomes the statement's resource. An alias cannot be an IAM resource for ``kms:Decrypt``, so an
    alias (or alias ARN) is matched with the ``kms:ResourceAliases`` condition instead.
    """
    statement: dict[str, object] = {
        "Sid": "DecryptGoldenImageComponents",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
    }
    if "alias/" in key:
        alias = "alias/" + key.split("alias/", 1)[1]
        statement["Resource"] = "*"
        statement["Condition"] = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}}
    else:
        statement["Resource"] = key
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)
