"""The P2 floor: a policy pack with one resource policy that never reports anything."""

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationArgs, ResourceValidationPolicy


def _validate(args: ResourceValidationArgs, report_violation: object) -> None:
    """Accept every resource."""


PolicyPack(
    name="benchmark-noop",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(name="benchmark-noop", description="Does nothing.", validate=_validate),
    ],
)
