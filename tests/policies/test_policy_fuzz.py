"""Property-based: arbitrary engine properties never break the pack.

Over 10,000 generated property sets (wrong types, nulls, nested junk, unknown sentinels, secrets, output values)
go through one running pack in batches, each batch one ``Analyze`` per resource plus one ``AnalyzeStack``. Any
exception inside a policy would come back as a gRPC error and fail the run.

Two generators share the work: hypothesis strategies (3,000 sets, small batches, real shrinking) and, for volume,
hypothesis-seeded ``random.Random`` expansion (7,500 sets): hypothesis' per-example cost is too high to draw
10,000 recursive structures within the suite's time budget on 2 cores, while a seeded expansion is reproducible
from the failing example hypothesis prints.

Each test counts the property sets it analyzed itself and asserts its own share at its end: no test reads state
another test left behind, so the module gives the same verdict however pytest-xdist distributes the tests.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_factories import OUTPUT_SIG, SECRET_SIG, SIG, UNKNOWN, UNKNOWN_ARRAY, T, compliant
from policy_support import resource

from golden_images.engine.harness import PolicyHarness, is_preview_notice
from golden_images_policies import all_policies

BATCH = 10
EXAMPLES = 300  # 300 x 10 = 3,000 strategy-drawn property sets
SEEDED_BATCH = 50
SEEDED_EXAMPLES = 150  # 150 x 50 = 7,500 seeded property sets
#: The volume the two tests together promise (each asserts its own share).
VOLUME = 10_000
POLICY_NAMES = {p.name for p in all_policies()}

KEYS = [
    "kmsKeyId",
    "encrypted",
    "blockDeviceMappings",
    "ebs",
    "deviceName",
    "noDevice",
    "virtualName",
    "distributions",
    "region",
    "amiDistributionConfiguration",
    "launchPermission",
    "userGroups",
    "userIds",
    "organizationArns",
    "organizationalUnitArns",
    "targetAccountIds",
    "amiTags",
    "containerDistributionConfiguration",
    "version",
    "parentImage",
    "components",
    "componentArn",
    "tags",
    "instanceMetadataOptions",
    "httpTokens",
    "terminateInstanceOnFailure",
    "imageTestsConfiguration",
    "imageTestsEnabled",
    "imageScanningConfiguration",
    "imageScanningEnabled",
    "instanceConfiguration",
    "ebsBlockDevices",
    "group",
    "accountId",
    "organizationArn",
    "organizationalUnitArn",
    "publishingProfile",
    "targetRegions",
    "name",
    "encryption",
    "osDiskImage",
    "diskEncryptionSetId",
    "dataDiskImages",
    "lun",
    "sharingProfile",
    "permissions",
    "communityGalleryInfo",
    "galleryImageVersionName",
    "storageProfile",
    "source",
    "id",
    "imageVersionId",
    "vmProfile",
    "vnetConfig",
    "subnetId",
    "imageEncryptionKey",
    "kmsKeySelfLink",
    "rawKey",
    "rsaEncryptedKey",
    "machineImageEncryptionKey",
    "kmsKeyName",
    "members",
    "member",
    "policyData",
    "sourceImage",
    "labels",
    "template",
    "disks",
    "datastoreId",
    "efiDisk",
    "tpmState",
    "initialization",
    "interface",
    "imageName",
    "environment",
    "os",
    "family",
    "release",
    "lts",
    "record",
    "owner",
    "image-version",
    "__target",
    # issue 12 kinds: fail-closed reads of sharing switches, exports, extended locations, cloned disks
    "state",
    "s3ExportConfiguration",
    "s3Bucket",
    "launchTemplateConfigurations",
    "fastLaunchConfigurations",
    "ssmParameterConfigurations",
    "amiAccountId",
    "targetExtendedLocations",
    "diskEncryptionSet",
    "dataDisks",
    "osDisk",
    "sharing",
    "permission",
    "communityGallery",
    "sharingUpdate",
    "operationType",
    "groups",
    "ids",
    "type",
    "distribute",
    "snapshotEncryptionKey",
    "role",
    "disk",
    "clone",
    "targetDatastore",
]
TRAPS = [
    "false",
    "False",
    "true",
    "",
    " ",
    "all",
    "ALL",
    "alias/aws/ebs",
    "allUsers",
    "latest",
    "x.x.x",
    "1.4.2",
    "1.x",
    "Community",
    "required",
    "optional",
    "prod",
    "dev",
    UNKNOWN,
    UNKNOWN_ARRAY,
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    '{"bindings": [1]}',
    '{"bindings": [{"members": ["allUsers"]}]}',
    "[",
    "ssm:/x",
    "projects/p/global/images/family/f",
    "none",
    "unblocked",
    "block-new-sharing",
    "EnableCommunity",
    "VHD",
    "ManagedImage",
    "SharedImage",
    "\ufeff{",
    '{"Bindings": [{"Members": ["allAuthenticatedUsers"]}]}',
    "mrk-1234567890abcdef1234567890abcdef",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(TRAPS),
    st.text(max_size=6),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8))


def _wrap(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
        children.map(lambda v: {SIG: SECRET_SIG, "value": v}),
        children.map(lambda v: {SIG: OUTPUT_SIG, "value": v, "secret": True}),
    )


junk = st.recursive(scalars, _wrap, max_leaves=5)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict) and SIG in value:
        return found  # a wire sentinel (secret, output value) is replaced whole, never corrupted inside
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(sorted(T)))
    props = compliant(kind)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(props)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        node: Any = props
        for step in parents:
            node = node[step]
        node[last] = draw(junk)
    return kind, props


@st.composite
def random_props(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(sorted(T)))
    return kind, draw(st.dictionaries(keys, junk, max_size=8))


property_sets = st.one_of(mutated(), random_props())


@pytest.mark.slow
def test_arbitrary_props_never_break_a_policy(configured: PolicyHarness) -> None:
    analyzed = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(batch=st.lists(property_sets, min_size=BATCH, max_size=BATCH))
    def check(batch: list[tuple[str, dict[str, Any]]]) -> None:
        nonlocal analyzed
        resources = [resource(kind, copy.deepcopy(props)) for kind, props in batch]
        violations = configured.analyze(resources)  # a policy exception would surface as PolicyHarnessError
        analyzed += len(resources)
        for violation in violations:
            assert violation.policy in POLICY_NAMES
            assert violation.level in {"mandatory", "advisory"}
            assert violation.message
            if violation.level == "advisory":
                assert is_preview_notice(violation), violation

    check()
    # Counted inside this test only: hypothesis may stop early (exhausted or filtered examples), which would
    # silently shrink the volume the module promises.
    assert analyzed >= EXAMPLES * BATCH
    assert "Traceback" not in configured.stderr


def _random_junk(r: random.Random, depth: int = 0) -> Any:
    roll = r.random()
    if depth >= 3 or roll < 0.55:
        return r.choice(
            [
                None,
                True,
                False,
                r.randint(-(2**40), 2**40),
                r.uniform(-1e9, 1e9),
                r.choice(TRAPS),
                r.choice(TRAPS),
                "".join(chr(r.randint(32, 0x2FF)) for _ in range(r.randint(0, 6))),
            ]
        )
    if roll < 0.7:
        return [_random_junk(r, depth + 1) for _ in range(r.randint(0, 4))]
    if roll < 0.85:
        return {r.choice(KEYS): _random_junk(r, depth + 1) for _ in range(r.randint(0, 5))}
    if roll < 0.93:
        return {SIG: SECRET_SIG, "value": _random_junk(r, depth + 1)}
    return {SIG: OUTPUT_SIG, "value": _random_junk(r, depth + 1), "secret": r.random() < 0.5}


def _random_props(r: random.Random) -> tuple[str, dict[str, Any]]:
    kind = r.choice(sorted(T))
    if r.random() < 0.3:
        return kind, {r.choice(KEYS): _random_junk(r) for _ in range(r.randint(0, 8))}
    props = compliant(kind)
    for _ in range(r.randint(1, 4)):
        paths = _paths(props)
        if not paths:
            break
        *parents, last = r.choice(paths)
        node: Any = props
        for step in parents:
            node = node[step]
        node[last] = _random_junk(r)
    return kind, props


@pytest.mark.slow
def test_seeded_props_never_break_a_policy(configured: PolicyHarness) -> None:
    analyzed = 0

    @settings(max_examples=SEEDED_EXAMPLES, deadline=None, database=None)
    @given(seed=st.integers(min_value=0, max_value=2**64 - 1))
    def check(seed: int) -> None:
        # One drawn seed per batch: drawing every choice from hypothesis' buffer is far too slow at this volume.
        nonlocal analyzed
        r = random.Random(seed)
        resources = [resource(*_random_props(r)) for _ in range(SEEDED_BATCH)]
        violations = configured.analyze(resources)
        analyzed += len(resources)
        for violation in violations:
            assert violation.policy in POLICY_NAMES
            assert violation.level == "mandatory" or is_preview_notice(violation), violation

    check()
    assert analyzed >= SEEDED_EXAMPLES * SEEDED_BATCH
    assert "Traceback" not in configured.stderr


def test_fuzz_volume_adds_up() -> None:
    """The two fuzz tests' own shares (each asserted inside that test) add up to the promised volume."""
    assert EXAMPLES * BATCH + SEEDED_EXAMPLES * SEEDED_BATCH >= VOLUME
