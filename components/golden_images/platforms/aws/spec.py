"""The ``aws`` section of a catalog image: how EC2 Image Builder bakes and distributes it."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from golden_images.core import rules
from golden_images.core.base import CatalogModel, ImageName, context_value, require_exactly_one


# AWS scalar types: each refuses with a sentence naming the expected form.
def _region(value: str) -> str:
    if not rules.is_aws_region(value):
        raise ValueError(f"{value!r} is not an AWS region code such as 'eu-west-1'")
    return value


def _kms_key(value: str) -> str:
    if not rules.is_kms_key_reference(value):
        raise ValueError(f"{value!r} is not a KMS key id, key ARN, alias or alias ARN")
    if not rules.is_customer_kms_key(value):
        raise ValueError(
            f"{value!r} is an AWS-managed key; golden images need a customer-managed KMS key "
            "(the only kind that can be shared with other accounts and restricted by key policy)"
        )
    return value


def _account(value: str) -> str:
    if not rules.is_aws_account_id(value):
        raise ValueError(f"{value!r} is not a 12-digit AWS account id")
    return value


def _org(value: str) -> str:
    if not rules.is_aws_org_arn(value):
        raise ValueError(f"{value!r} is not an AWS Organizations organization ARN")
    return value


def _ou(value: str) -> str:
    if not rules.is_aws_ou_arn(value):
        raise ValueError(f"{value!r} is not an AWS Organizations organizational-unit ARN")
    return value


AwsRegion = Annotated[str, AfterValidator(_region)]
KmsKey = Annotated[str, AfterValidator(_kms_key)]
AwsAccountId = Annotated[str, AfterValidator(_account)]
AwsOrgArn = Annotated[str, AfterValidator(_org)]
AwsOuArn = Annotated[str, AfterValidator(_ou)]

_SSM_PARAM = r"^/[A-Za-z0-9_.\-/]{1,1010}$"
_SUBNET = r"^subnet-[0-9a-f]{8,17}$"
_SG = r"^sg-[0-9a-f]{8,17}$"
_SNS = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"
_INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"


class AwsParent(CatalogModel):
    """The parent (base) image: exactly one of ``ami`` (an AMI id in the build region), ``image_builder_arn``
    (an Image Builder image ARN with an exact version), ``ssm_parameter`` (a public AMI parameter such as
    Canonical's; pinned per region by ``golden-images pin``; prod refuses it unpinned) or ``image`` (another
    image of this catalog: the recipe's parent becomes that image's Image Builder image, and its pipeline
    runs first)."""

    ami: Annotated[str, Field(pattern=rules.AMI_ID_PATTERN)] | None = None
    image_builder_arn: str | None = None
    ssm_parameter: Annotated[str, Field(pattern=_SSM_PARAM)] | None = None
    image: ImageName | None = None

    @field_validator("image_builder_arn")
    @classmethod
    def _arn(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        version = rules.image_builder_arn_version(value)
        if version is None:
            raise ValueError(
                f"{value!r} is not an Image Builder image ARN "
                "(arn:aws:imagebuilder:<region>:<owner>:image/<name>/<version>)"
            )
        if rules.is_floating_reference(value) and context_value(info, "environment") == "prod":
            raise ValueError(
                f"prod needs a pinned parent, but {value!r} floats ({version}); use an exact version such as "
                "2024.11.1"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> AwsParent:
        require_exactly_one(
            self,
            ("ami", "image_builder_arn", "ssm_parameter", "image"),
            "parent_choice",
            "set exactly one of ami, image_builder_arn, ssm_parameter or image (got {given})",
        )
        return self


class AwsSharing(CatalogModel):
    """Who may launch the AMIs: account ids, organization ARNs, OU ARNs. Default: nobody else. Public
    sharing is not expressible on purpose."""

    accounts: tuple[AwsAccountId, ...] = ()
    organizations: tuple[AwsOrgArn, ...] = ()
    organizational_units: tuple[AwsOuArn, ...] = ()

    def is_empty(self) -> bool:
        """True when nothing is shared."""
        return not (self.accounts or self.organizations or self.organizational_units)


#: Image Builder's start conditions: build on every cron match, or only when the cron matches and a
#: dependency has a newer version that matches the recipe's semantic-version filter.
MATCH_ONLY = "EXPRESSION_MATCH_ONLY"
MATCH_AND_UPDATES = "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"
StartCondition = Literal["EXPRESSION_MATCH_ONLY", "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"]


class AwsSchedule(CatalogModel):
    """Pipeline schedule: a 6-field Image Builder ``cron(...)`` expression, its ``timezone`` (default
    ``Etc/UTC``) and the ``start_condition``. Default: ``EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE``
    only for a golden parent (``parent.image``: a new build of the parent starts the child) or a floating
    ``image_builder_arn`` parent (``…/x.x.x``), else ``EXPRESSION_MATCH_ONLY`` — Image
    Builder detects "dependency updates" only through semantic-version filters, and components are always
    exact versions, so with a pinned ``ami``/exact ARN/SSM parent the update condition would never start a
    build. Setting the update condition explicitly with such a parent is refused."""

    cron: str
    timezone: Annotated[str, Field(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$")] = "Etc/UTC"
    start_condition: StartCondition | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        problem = rules.cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value


#: Limits the Image Builder lifecycle API enforces (terraform-provider-aws validates the same):
#: ``filter.retainAtLeast`` 1-10 and ``filter.value`` 1-1000.
MAX_KEEP = 10
MAX_DEPRECATE_DAYS = 1000


class AwsRetention(CatalogModel):
    """Lifecycle of baked AMIs: ``keep`` the newest N (default 5, 1-10) and deprecate images older than
    ``deprecate_after_days`` (default 90, 1-1000). The ranges are Image Builder's own: ``keep`` becomes the
    lifecycle filter's ``retainAtLeast`` (1-10) and the days its ``value`` (1-1000)."""

    keep: Annotated[int, Field(ge=1)] = 5
    deprecate_after_days: Annotated[int, Field(ge=1)] = 90

    @field_validator("keep")
    @classmethod
    def _keep(cls, value: int) -> int:
        if value > MAX_KEEP:
            raise ValueError(
                f"keep must be 1-{MAX_KEEP}, got {value}: it is the lifecycle policy's retainAtLeast, which "
                f"Image Builder limits to {MAX_KEEP}; older AMIs beyond that are retired by "
                "'golden-images cleanup'"
            )
        return value

    @field_validator("deprecate_after_days")
    @classmethod
    def _days(cls, value: int) -> int:
        if value > MAX_DEPRECATE_DAYS:
            raise ValueError(
                f"deprecate_after_days must be 1-{MAX_DEPRECATE_DAYS}, got {value}: Image Builder's lifecycle "
                f"filter accepts at most {MAX_DEPRECATE_DAYS} days"
            )
        return value


class AwsSpec(CatalogModel):
    """EC2 Image Builder settings. The pipeline runs in ``regions[0]`` (the build region) and distributes to
    every region, each with its own customer-managed KMS key from ``kms_keys``.

    Defaults: instance type ``t3.medium``, 30 GiB gp3 root volume, no subnet (default VPC), nothing shared,
    no schedule (manual runs), keep 5 / deprecate after 90 days, no SNS topic, ``bake_on_up: false`` (``pulumi
    up`` creates the pipeline but does not wait for a build), build timeout 180 minutes, SSM parameters under
    ``/golden-images``.
    """

    regions: Annotated[tuple[AwsRegion, ...], Field(min_length=1)]
    parent: AwsParent
    kms_keys: dict[AwsRegion, KmsKey]
    instance_types: Annotated[
        tuple[Annotated[str, Field(pattern=_INSTANCE_TYPE)], ...], Field(min_length=1)
    ] = ("t3.medium",)
    subnet_id: Annotated[str, Field(pattern=_SUBNET)] | None = None
    security_group_ids: tuple[Annotated[str, Field(pattern=_SG)], ...] = ()
    sharing: AwsSharing = Field(default_factory=AwsSharing)
    schedule: AwsSchedule | None = None
    retention: AwsRetention = Field(default_factory=AwsRetention)
    sns_topic_arn: Annotated[str, Field(pattern=_SNS)] | None = None
    bake_on_up: bool = False
    volume_size_gb: Annotated[int, Field(ge=8, le=16384)] = 30
    root_device_name: Annotated[str, Field(pattern=r"^/dev/[a-z0-9]+$")] | None = None
    build_timeout_minutes: Annotated[int, Field(ge=60, le=1440)] = 180
    ssm_parameter_prefix: Annotated[str, Field(pattern=r"^(/[A-Za-z0-9_.-]+)+$")] = "/golden-images"

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({r for r in regions if regions.count(r) > 1})
        if dupes:
            raise ValueError(f"region(s) {', '.join(dupes)} listed more than once")
        return regions

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo) -> AwsSpec:
        problems: list[str] = []
        missing = [r for r in self.regions if r not in self.kms_keys]
        if missing:
            problems.append(
                f"kms_keys has no key for region(s) {', '.join(missing)}; every distribution region needs its "
                "own customer-managed KMS key"
            )
        extra = sorted(set(self.kms_keys) - set(self.regions))
        if extra:
            problems.append(f"kms_keys names region(s) {', '.join(extra)} that are not in regions")
        if self.security_group_ids and self.subnet_id is None:
            problems.append("security_group_ids needs subnet_id (Image Builder applies them to that subnet)")
        schedule = self.schedule
        if (
            schedule is not None
            and schedule.start_condition == MATCH_AND_UPDATES
            and not self.parent_has_version_filter
        ):
            problems.append(
                f"schedule.start_condition {MATCH_AND_UPDATES} never starts a build here: the parent is "
                "pinned (an AMI, an exact image ARN or an SSM parameter) and components are exact versions, so "
                f"Image Builder never sees a dependency update; use {MATCH_ONLY} or leave start_condition unset"
            )
        environment = context_value(info, "environment")
        pins: Any = context_value(info, "pins")
        param = self.parent.ssm_parameter
        if environment == "prod" and param is not None:
            pin = pins.lookup(param, self.regions[0]) if pins is not None else None
            if pin is None:
                problems.append(
                    f"prod needs a pinned parent, but parent.ssm_parameter {param!r} has no pin for "
                    f"{self.regions[0]}; run 'golden-images pin --stack prod' and commit stacks/pins/prod.yaml"
                )
        if problems:
            raise PydanticCustomError("aws_section", "{problems}", {"problems": "; ".join(problems)})
        return self

    #: The fields that name where the bytes start from: a child with a golden parent does not inherit them
    #: from ``defaults.aws`` (the loader leaves them out).
    SOURCE_FIELDS: ClassVar[tuple[str, ...]] = ("parent",)

    @property
    def golden_parent(self) -> str | None:
        """The catalog image this section is layered on (``parent.image``), ``None`` for a vendor parent."""
        return self.parent.image

    def source_identity(self, pins: Any) -> Any:
        """What the build starts from, as resolved for the fingerprint: the AMI id, the ARN, the pinned AMI of
        an SSM parameter in the build region (``ssm:<parameter>`` while unpinned) or the golden parent."""
        parent = self.parent
        if parent.image is not None:
            return {"image": parent.image}
        if parent.ssm_parameter is not None:
            pin = pins.lookup(parent.ssm_parameter, self.build_region) if pins is not None else None
            return getattr(pin, "ami", None) or f"ssm:{parent.ssm_parameter}"
        return parent.ami or parent.image_builder_arn

    @property
    def parent_has_version_filter(self) -> bool:
        """True when the parent is a golden parent (its Image Builder image, whose new builds Image Builder
        sees as dependency updates) or an Image Builder ARN with a semantic-version wildcard (``…/x.x.x``)."""
        if self.parent.image is not None:
            return True
        arn = self.parent.image_builder_arn
        return arn is not None and rules.is_floating_reference(arn)

    @property
    def start_condition(self) -> str:
        """The pipeline's start condition: the schedule's, else the default described on
        :class:`AwsSchedule`."""
        if self.schedule is not None and self.schedule.start_condition is not None:
            return self.schedule.start_condition
        return MATCH_AND_UPDATES if self.parent_has_version_filter else MATCH_ONLY

    @property
    def build_region(self) -> str:
        """The region the pipeline runs in: ``regions[0]``."""
        return self.regions[0]
