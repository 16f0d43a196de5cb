"""What counts as a customer-managed key, per platform, and the sentence for a value that is not one.

A key value is a customer key only when it has the *shape* of one and is not provider-managed:

* AWS: a KMS key ARN, key id (UUID or ``mrk-`` multi-Region id), alias name (``alias/<name>``) or alias ARN, where
  the alias is not AWS-managed (``alias/aws/...``). Anything else (``"none"``, ``"default"``, a bucket ARN, a
  number) is not a key: KMS would reject it or, worse, the provider would fall back to the AWS-managed key.
* Azure: a disk encryption set resource id
  (``/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/diskEncryptionSets/<name>``, matched
  case-insensitively as ARM does).
* GCP: a Cloud KMS crypto key name (``projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>``, optionally with
  ``/cryptoKeyVersions/<n>`` or a ``//cloudkms.googleapis.com/`` or ``https://.../v1/`` prefix).

The AWS rule is :func:`golden_images.core.rules.is_customer_kms_key`, shared with the catalog (re-exported
here). :func:`key_problem` returns ``None`` for a customer key or a value unknown during preview, else the reason.
"""

from __future__ import annotations

import re
from typing import Any, Final

from golden_images.core.rules import is_customer_kms_key

from .props import UNKNOWN

__all__ = [
    "aws_key_problem",
    "azure_des_problem",
    "gcp_key_problem",
    "is_customer_kms_key",
    "is_disk_encryption_set_id",
    "is_gcp_kms_key",
]

_AZURE_DES: Final = re.compile(
    r"^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.Compute/"
    r"diskEncryptionSets/[-\w._]+$",
    re.IGNORECASE,
)
_GCP_KEY: Final = re.compile(
    r"^(?://cloudkms\.googleapis\.com/|https://cloudkms\.googleapis\.com/v1/)?projects/[^/\s]+/locations/[^/\s]+/"
    r"keyRings/[^/\s]+/cryptoKeys/[^/\s]+(?:/cryptoKeyVersions/\d+)?$"
)


def is_disk_encryption_set_id(value: Any) -> bool:
    """True for an Azure disk encryption set resource id (the only way to give Azure a customer key here)."""
    return isinstance(value, str) and _AZURE_DES.fullmatch(value) is not None


def is_gcp_kms_key(value: Any) -> bool:
    """True for a Cloud KMS crypto key (or key version) name."""
    return isinstance(value, str) and _GCP_KEY.fullmatch(value) is not None


def aws_key_problem(value: Any) -> str | None:
    """Why ``value`` is not a customer-managed KMS key (``None`` when it is one, or unknown during preview)."""
    if value is UNKNOWN or is_customer_kms_key(value):
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        return "no KMS key is set, so AWS uses its AWS-managed key"
    if isinstance(value, str) and (value.startswith("alias/aws/") or ":alias/aws/" in value):
        return f"'{value}' is an AWS-managed key, which cannot be restricted or shared"
    if isinstance(value, str):
        return f"'{value}' is not a KMS key ARN, key id, alias name or alias ARN, so it is not a customer key"
    return f"the key could not be read (it is a {type(value).__name__}, not a string)"


def azure_des_problem(value: Any) -> str | None:
    """Why ``value`` is not a disk encryption set id (``None`` when it is one, or unknown during preview)."""
    if value is UNKNOWN or is_disk_encryption_set_id(value):
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        return "no disk encryption set is set, so Azure uses a platform-managed key"
    if isinstance(value, str):
        return f"'{value}' is not a disk encryption set resource id, so it is not a customer key"
    return f"the disk encryption set could not be read (it is a {type(value).__name__}, not a string)"


def gcp_key_problem(value: Any) -> str | None:
    """Why ``value`` is not a Cloud KMS key name (``None`` when it is one, or unknown during preview)."""
    if value is UNKNOWN or is_gcp_kms_key(value):
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        return "no Cloud KMS key is set, so Google uses a Google-managed key"
    if isinstance(value, str):
        return (
            f"'{value}' is not a Cloud KMS key name (projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>), "
            f"so it is not a customer key"
        )
    return f"the key could not be read (it is a {type(value).__name__}, not a string)"
