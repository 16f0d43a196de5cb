"""The image inventory is complete and honest: every in-scope token of the installed SDKs is listed, and every
listed policy really judges the token it is listed for (through the running pack, not just by name)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from policy_factories import T

from golden_images_policies import all_policies
from golden_images_policies.inventory import CLASSIC_AZURE_TOKENS, INVENTORY, SCOPE
from golden_images_policies.registry import POLICY_TYPES

_REGISTER = re.compile(r'resource_modules="""(.*?)"""', re.DOTALL)


def _sdk_tokens(package: str) -> set[str]:
    """Resource tokens an SDK registers with the Pulumi runtime (read from its ``__init__``, no import)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin, f"{package} is not installed"
    match = _REGISTER.search(Path(spec.origin).read_text(encoding="utf-8"))
    assert match, f"{package}/__init__.py registers no resource modules"
    return {token for module in json.loads(match.group(1)) for token in module["classes"]}


IN_SCOPE = {
    package: sorted(t for t in _sdk_tokens(package) if any(p.search(t) for p in patterns))
    for package, patterns in SCOPE.items()
}
COVERED = sorted({t for tokens in IN_SCOPE.values() for t in tokens} | set(CLASSIC_AZURE_TOKENS))


@pytest.mark.parametrize("token", COVERED)
def test_token_is_inventoried(token: str) -> None:
    """Every in-scope token (named in the test id) has policies or a reason."""
    entry = INVENTORY.get(token)
    assert entry is not None, f"{token} creates, copies, shares or exports images but is not in the inventory"
    assert entry.policies or len(entry.reason) > 20, token
    names = {p.name for p in all_policies()}
    for policy in entry.policies:
        assert policy in names, (token, policy)
        assert token in POLICY_TYPES[policy], f"{policy} does not look at {token}"


def test_scope_finds_the_known_kinds() -> None:
    """The patterns are not vacuous: each SDK contributes the kinds the issue names."""
    assert {
        "aws:ec2/amiFromInstance:AmiFromInstance",
        "aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess",
    } <= set(IN_SCOPE["pulumi_aws"])
    assert "azure-native:compute:Image" in IN_SCOPE["pulumi_azure_native"]
    assert "gcp:projects/iAMMember:IAMMember" in IN_SCOPE["pulumi_gcp"]
    assert {"proxmoxve:cloned/vm:Vm", "proxmoxve:index/vm2Legacy:Vm2Legacy"} <= set(
        IN_SCOPE["pulumi_proxmoxve"]
    )
    assert all(len(tokens) >= 5 for tokens in IN_SCOPE.values()), {k: len(v) for k, v in IN_SCOPE.items()}


def test_classic_azure_is_listed_from_docs_only_while_not_installed() -> None:
    """The classic provider is inventoried from its registry docs; once installed, walk it like the others."""
    assert importlib.util.find_spec("pulumi_azure") is None, "pulumi_azure is installed: add it to SCOPE"
    assert all(t in INVENTORY for t in CLASSIC_AZURE_TOKENS)


def test_no_stale_entries() -> None:
    """Every inventory entry is in scope (installed SDK, classic docs list, or a documented hand entry)."""
    hand = {"azure-native:compute:GallerySharingProfile"}
    installed = {t for tokens in IN_SCOPE.values() for t in tokens}
    all_sdk = set().union(*(_sdk_tokens(p) for p in SCOPE))
    stale = sorted(t for t in INVENTORY if t not in installed | set(CLASSIC_AZURE_TOKENS) | hand | all_sdk)
    assert stale == []


def test_every_judged_kind_has_a_factory() -> None:
    """Judged kinds have a compliant factory, so the compliant tests and the fuzz suite (which draws from T)
    cover them."""
    missing = sorted(t for t, e in INVENTORY.items() if e.policies and t not in set(T.values()))
    assert missing == []
