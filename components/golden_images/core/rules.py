"""Rule functions shared by the catalog validation and the CrossGuard policy pack.

A rule exists once: the catalog refuses a value at load time and the policy pack flags the same value on any
stack (ours or another team's) with the very same function. Every function here is pure, total (never raises
on odd input: the policy pack feeds it arbitrary engine properties) and cheap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

#: Tag keys every golden image carries unless a catalog's ``defaults.required_tags`` says otherwise.
REQUIRED_TAG_KEYS: Final[tuple[str, ...]] = (
    "owner",
    "cost-center",
    "environment",
    "managed-by",
    "golden-image",
    "image-version",
)
#: Value of the ``managed-by`` tag on everything this project creates; day-2 tools key on it.
MANAGED_BY: Final = "golden-images"
ENVIRONMENTS: Final[tuple[str, ...]] = ("dev", "staging", "prod")

# Strict MAJOR.MINOR.PATCH with no leading zeros, no pre-release or build suffix: Image Builder's semantic
# versions and Azure gallery version names both refuse suffixes, so the catalog does too.
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_INT32_MAX: Final = 2**31 - 1
# Image Builder resource names: 1-128 chars of letters, digits, hyphen, underscore (spaces allowed inside,
# but we never emit them).
_IB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_CATALOG_IMAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_GCP_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_PROXMOX_TAG = re.compile(r"^[a-z0-9_][a-z0-9_+.-]*$")
_AWS_ACCOUNT = re.compile(r"^\d{12}$")
_AWS_ORG_ARN = re.compile(r"^arn:aws[a-z-]*:organizations::\d{12}:organization/o-[a-z0-9]{10,32}$")
_AWS_OU_ARN = re.compile(
    r"^arn:aws[a-z-]*:organizations::\d{12}:ou/o-[a-z0-9]{10,32}/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$"
)
_AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
#: An AMI id (8 or 17 hex digits), as a pattern for models and a compiled regex for rules.
AMI_ID_PATTERN: Final = r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$"
_AMI_ID = re.compile(AMI_ID_PATTERN)
# KMS key references as KMS accepts them: key ARN (UUID or ``mrk-`` multi-Region id), alias ARN, bare key id or
# alias name. The UUID is matched group by group so a 36-character run of hyphens is not a key id.
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KMS_KEY = re.compile(
    rf"^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{{12}}:(?:key/(?:{_UUID}|mrk-[0-9a-f]{{32}})|(?P<arn_alias>alias/[A-Za-z0-9/_-]+))"
    rf"|{_UUID}|mrk-[0-9a-f]{{32}}|(?P<alias>alias/[A-Za-z0-9/_-]+))$"
)
_IB_IMAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:(aws|\d{12}|aws-marketplace):image/[a-z0-9-_]+/"
    r"(?P<version>[0-9x]+\.[0-9x]+\.[0-9x]+)(/\d+)?$"
)
_FLOATING_WORDS: Final = frozenset({"latest", "current", "stable", "*", "x.x.x"})
# The six fields of an EventBridge-style cron as Image Builder wants it: minutes hours day-of-month month
# day-of-week year. Each field's alphabet is checked, not its full grammar (AWS validates the rest).
_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#L W-]+$")


def as_str(value: Any) -> str | None:
    """Return ``value`` when it is a ``str``, else ``None`` (engine props may be anything)."""
    return value if isinstance(value, str) else None


def is_semver(value: Any) -> bool:
    """True for a strict ``MAJOR.MINOR.PATCH`` string (no ``v`` prefix, no suffix, no leading zeros)."""
    return isinstance(value, str) and _SEMVER.fullmatch(value) is not None


def semver_major(value: Any) -> int | None:
    """The MAJOR part of a strict semver string, else ``None``."""
    if not is_semver(value):
        return None
    return int(str(value).split(".", 1)[0])


def is_gallery_version_name(value: Any) -> bool:
    """Azure Compute Gallery version names: ``int.int.int``, each part within 32-bit signed range."""
    if not isinstance(value, str):
        return False
    parts = value.split(".")
    return (
        len(parts) == 3
        and all(p.isdigit() and p.isascii() for p in parts)
        and all(int(p) <= _INT32_MAX for p in parts)
    )


def is_floating_reference(value: Any) -> bool:
    """True when a version or image reference does not pin exact bytes.

    Catches ``latest``/``current``/``stable``/``*``, semver wildcards (``1.x.x``, ``x.x.x``), Image Builder
    ARNs ending in a wildcard version, Azure ``.../versions/latest``, Image Builder's ``ssm:`` parent
    references (an SSM parameter is re-read at every build) and GCP image families (``.../images/family/<f>``
    resolves to the family's newest image, as does the provider's ``family/<f>`` shorthand). Non-strings are
    not references: ``False``.
    """
    if not isinstance(value, str):
        return False
    text = value.strip().lower()
    if not text:
        return False
    if text in _FLOATING_WORDS or text.startswith("ssm:") or text.startswith("resolve:ssm:"):
        return True
    # ``family/<f>`` is the Google provider's shorthand for a family (of the provider's or a public project).
    if "/images/family/" in text or text.startswith("family/"):
        return True
    # Paths (``.../versions/latest``) and Azure marketplace URNs (``publisher:offer:sku:latest``) alike.
    last = text.replace(":", "/").rstrip("/").rsplit("/", 1)[-1]
    if last in _FLOATING_WORDS:
        return True
    # Any dotted version with an `x` or `*` part is a wildcard (`1.x.x`, `2.*`).
    return any(
        re.fullmatch(r"[0-9x*]+(\.[0-9x*]+){1,2}", seg) is not None and ("x" in seg or "*" in seg)
        for seg in text.replace(":", "/").split("/")
    )


def is_customer_kms_key(value: Any) -> bool:
    """True for a customer-managed KMS key reference: a key ARN, key id, alias name or alias ARN that is not
    AWS-managed (``alias/aws/...``).

    Anything without the shape of a key (``""``, ``"none"``, ``"default"``, a bucket ARN, surrounding spaces,
    a non-string) is not a customer key: KMS would reject it or the provider would fall back to the
    AWS-managed key, which the account cannot restrict or share. The catalog and the policy pack both use
    this function, so a value the catalog accepts is never one the pack flags.
    """
    if not isinstance(value, str):
        return False
    match = _KMS_KEY.fullmatch(value)
    if match is None:
        return False
    alias = match.group("arn_alias") or match.group("alias")
    return alias is None or not alias.startswith("alias/aws/")


def is_kms_key_reference(value: Any) -> bool:
    """True when ``value`` is syntactically a KMS key id, key ARN, alias or alias ARN (AWS-managed included)."""
    return isinstance(value, str) and _KMS_KEY.fullmatch(value) is not None


def is_aws_region(value: Any) -> bool:
    """True for an AWS region code such as ``eu-west-1`` or ``us-gov-west-1``."""
    return isinstance(value, str) and _AWS_REGION.fullmatch(value) is not None


def is_ami_id(value: Any) -> bool:
    """True for ``ami-`` followed by 8 or 17 lowercase hex digits."""
    return isinstance(value, str) and _AMI_ID.fullmatch(value) is not None


def image_builder_arn_version(value: Any) -> str | None:
    """The version part of an Image Builder image ARN (``.../image/<name>/<version>[/<build>]``), else None."""
    if not isinstance(value, str):
        return None
    m = _IB_IMAGE_ARN.fullmatch(value)
    return m.group("version") if m else None


def is_aws_account_id(value: Any) -> bool:
    """True for a 12-digit AWS account id."""
    return isinstance(value, str) and _AWS_ACCOUNT.fullmatch(value) is not None


def is_aws_org_arn(value: Any) -> bool:
    """True for an AWS Organizations organization ARN."""
    return isinstance(value, str) and _AWS_ORG_ARN.fullmatch(value) is not None


def is_aws_ou_arn(value: Any) -> bool:
    """True for an AWS Organizations organizational-unit ARN."""
    return isinstance(value, str) and _AWS_OU_ARN.fullmatch(value) is not None


def is_public_group(value: Any) -> bool:
    """True for the launch-permission group that makes an AMI public (``all``, any case)."""
    return isinstance(value, str) and value.strip().lower() == "all"


def is_catalog_image_name(value: Any) -> bool:
    """Catalog image names: 3-40 chars, lowercase letters, digits and hyphens, starting with a letter.

    Narrow on purpose: the name is embedded in AWS, Azure, GCP and Proxmox names and labels, and this
    alphabet fits all of them after rendering (GCP names are the strictest: lowercase, ≤63 with suffixes).
    """
    return isinstance(value, str) and _CATALOG_IMAGE_NAME.fullmatch(value) is not None


def is_image_builder_name(value: Any) -> bool:
    """Image Builder resource names as we emit them: 1-128 of ``[A-Za-z0-9_-]``."""
    return isinstance(value, str) and _IB_NAME.fullmatch(value) is not None


def is_gcp_resource_name(value: Any) -> bool:
    """GCP resource names (images, families): ``[a-z]([-a-z0-9]*[a-z0-9])?``, at most 63 chars."""
    return isinstance(value, str) and _GCP_NAME.fullmatch(value) is not None


def is_gcp_label(key: Any, value: Any) -> bool:
    """GCP label: key starts with a lowercase letter; key and value ``[a-z0-9_-]``, each ≤63 chars."""
    return (
        isinstance(key, str)
        and isinstance(value, str)
        and _GCP_LABEL_KEY.fullmatch(key) is not None
        and _GCP_LABEL_VALUE.fullmatch(value) is not None
    )


def is_proxmox_tag(value: Any) -> bool:
    """Proxmox VE tag in the flat encoding: ``[a-z0-9_][a-z0-9_+.-]*`` (PVE lower-cases and sorts tags)."""
    return isinstance(value, str) and _PROXMOX_TAG.fullmatch(value) is not None


def is_reserved_tag_key(key: Any) -> bool:
    """AWS reserves tag keys with the ``aws:`` prefix (any case); users cannot set them."""
    return isinstance(key, str) and key.lower().startswith("aws:")


def cron_problem(expression: Any) -> str | None:
    """Why ``expression`` is not an Image Builder schedule, or ``None`` when it is one.

    Image Builder takes ``cron(minutes hours day-of-month month day-of-week year)``: six fields, and exactly
    one of day-of-month/day-of-week must be ``?``.
    """
    if not isinstance(expression, str):
        return "the schedule must be a string such as 'cron(0 4 ? * MON *)'"
    m = _CRON.fullmatch(expression.strip())
    if m is None:
        return "the schedule must be written as 'cron(<6 fields>)', for example 'cron(0 4 ? * MON *)'"
    fields = m.group("body").split()
    if len(fields) != 6:
        return (
            f"Image Builder cron takes 6 fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(fields)}"
        )
    if not all(_CRON_FIELD.fullmatch(f) for f in fields):
        return "a cron field holds a character Image Builder does not accept"
    if (fields[2] == "?") == (fields[4] == "?"):
        return "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?'"
    return None


def is_truthy_flag(value: Any) -> bool:
    """Interpret a provider boolean that may arrive as a string (Image Builder EBS ``encrypted``).

    ``True`` and the strings ``"true"``/``"True"`` are true; ``"false"``, ``""``, ``None`` and anything else
    are false — an explicit, affirmative value is required.
    """
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def missing_tag_keys(tags: Any, required: tuple[str, ...] | list[str] = REQUIRED_TAG_KEYS) -> list[str]:
    """Required keys absent (or with an empty value) from a tag mapping; all of them when not a mapping."""
    if not isinstance(tags, Mapping):
        return list(required)
    present = {k for k, v in tags.items() if isinstance(k, str) and isinstance(v, str) and v.strip()}
    return [k for k in required if k not in present]
