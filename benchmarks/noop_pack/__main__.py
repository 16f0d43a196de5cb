"""The P2 floor: a policy pack whose resource policies never report anything.

One policy by default (the issue's floor). ``BENCHMARK_NOOP_POLICIES=N`` gives N such policies, to measure what
the policy SDK costs per policy independently of what the policies check.
"""

import os

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationArgs, ResourceValidationPolicy


def _validate(args: ResourceValidationArgs, report_violation: object) -> None:
    """Accept every resource."""


PolicyPack(
    name="benchmark-noop",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(name=f"benchmark-noop-{i}", description="Does nothing.", validate=_validate)
        for i in range(int(os.environ.get("BENCHMARK_NOOP_POLICIES", "1")))
    ],
)
