"""The golden-images policy pack. Only builds the pack: constructing PolicyPack starts the analyzer server.

Rules live in the importable ``golden_images_policies`` package. Every policy defaults to mandatory (prod-grade);
``config/dev.json`` and ``config/staging.json`` relax levels via ``--policy-pack-config``.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from golden_images_policies import PACK_NAME, all_policies

PolicyPack(name=PACK_NAME, policies=all_policies(), enforcement_level=EnforcementLevel.MANDATORY)
