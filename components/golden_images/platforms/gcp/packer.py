"""Render an image's build as a Packer JSON template for the ``googlecompute`` builder, plus the
content-addressed files the template runs (pure: no I/O, no Pulumi).

Every provisioning step becomes a file the template references by path only, run under the shared step
contract (``bash -euo pipefail <file> <args> </dev/null``, :mod:`golden_images.core.shellsteps`). Packer
interpolates Go templates (``{{ … }}``) in template strings, so user shell text never goes into the template
itself; it is uploaded to the build bucket under a name derived from its sha256 and checked against that hash
when Cloud Build downloads it. Packer re-renders template strings, so no escape survives: arguments travel
in a launcher object instead of ``execute_command``, the catalog refuses ``{{``/``}}`` in descriptions, and
copied files travel base64-encoded (exact bytes, NUL included).

The template is restricted to keys that both the Debian ``packer`` 1.6.6 (whose built-in
``googlecompute`` builder validates it in the tests) and the ``googlecompute`` plugin 1.1.x (which runs it in
Cloud Build) understand — which is why guest OS features are verified after the bake instead of being set
with ``image_guest_os_features`` (a plugin-only key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from dataclasses import dataclass
from typing import Any

from golden_images.core import shellsteps
from golden_images.core.fingerprint import platform_fingerprint, short
from golden_images.core.image import ImageCore
from golden_images.core.naming import gcp_image_name
from golden_images.core.steps import ResolvedStep, ResolvedSteps
from golden_images.core.tags import gcp_labels
from golden_images.platforms.gcp.spec import GcpSpec

#: Network tag on the build VM, for the firewall rule that lets the private pool reach SSH.
BUILD_VM_TAG = "golden-image-build"
#: Where uploaded files land on the build VM before they are installed.
STAGING_DIR = "/tmp/golden-images"
#: OAuth scopes of the build VM: it only writes logs and metrics (IAM on its service account limits the rest).
BUILD_VM_SCOPES = (
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring.write",
)


@dataclass(frozen=True)
class BuildObject:
    """One file of the build bucket. ``path`` is both the object name and the path relative to the Cloud
    Build workspace (``steps/<sha256>.sh``, ``files/<sha256>``, ``templates/<sha256>.json``), so a content
    change always gives a new name and an unchanged file keeps its name."""

    path: str
    content: str
    sha256: str
    content_type: str
    description: str


@dataclass(frozen=True)
class RenderedBuild:
    """What a bake needs: the template, every object it references (template last), the expected image
    name and family, and the image labels."""

    template: dict[str, Any]
    template_object: BuildObject
    step_objects: tuple[BuildObject, ...]
    image_name: str
    family: str
    labels: dict[str, str]
    fingerprint: str
    """The GCP platform fingerprint (image fingerprint + GCP build inputs); its prefix ends the image name."""

    @property
    def objects(self) -> tuple[BuildObject, ...]:
        """Step objects then the template object: every object the build downloads."""
        return (*self.step_objects, self.template_object)


def _object(prefix: str, suffix: str, content: str, content_type: str, description: str) -> BuildObject:
    sha = hashlib.sha256(content.encode()).hexdigest()
    return BuildObject(f"{prefix}/{sha}{suffix}", content, sha, content_type, description)


def no_template_syntax(text: str, what: str) -> str:
    """``text`` unchanged, or ``ValueError`` when it holds ``{{`` or ``}}``: Packer renders template strings
    as Go templates, repeatedly, so no escape survives (measured with Debian's packer 1.6.6); catalog text must
    never reach one. The catalog refuses such descriptions, so this only guards the invariant."""
    if "{{" in text or "}}" in text:
        raise ValueError(f"{what} contains Go template syntax: {text!r}")
    return text


#: The only command Packer runs for a step: no catalog text, so nothing for its Go templates to expand.
EXECUTE_COMMAND = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E " + shellsteps.run_line("'{{ .Path }}'")


def _run(obj: BuildObject) -> dict[str, Any]:
    # Run as root under the step contract whatever the script's shebang, as on the other platforms.
    return {"type": "shell", "script": obj.path, "execute_command": EXECUTE_COMMAND}


def _staging_script() -> str:
    return f"mkdir -p {shlex.quote(STAGING_DIR)}\nchmod 1777 {shlex.quote(STAGING_DIR)}\n"


def _step(step: ResolvedStep, family: str, objects: list[BuildObject]) -> list[dict[str, Any]]:
    """Provisioners for one step; files it needs are appended to ``objects``. The step's object is its step
    file byte for byte (:func:`golden_images.core.shellsteps.step_file`).

    A step with arguments (a script's args, a copied file's staged path) is uploaded to the staging directory
    and started by a launcher object holding the quoted command line, so arguments never pass through a Packer
    template string.
    """
    file = shellsteps.step_file(step, family, base64_data=True)
    origin = (
        f" ({step.source})" if step.kind == "script" else f" ({step.kind})" if step.kind != "shell" else ""
    )
    obj = _object("steps", ".sh", file.script, "text/x-shellscript", f"step {step.name}{origin}")
    if file.data is None and not file.args:
        objects.append(obj)
        return [_run(obj)]
    # The file provisioner uploads as the SSH user, so the root-owned staging directory must exist first.
    staging = _object("steps", ".sh", _staging_script(), "text/x-shellscript", "staging directory")
    provisioners: list[dict[str, Any]] = [_run(staging)]
    objects.append(staging)
    args = list(file.args)
    if file.data is not None:
        assert step.destination is not None
        # Cloud Storage objects are text here; base64 keeps any bytes (NUL included) exact, and the installer
        # decodes and checks them against the catalog's sha256.
        encoded = base64.encodebytes(file.data).decode("ascii")
        description = f"file {step.source} for {step.destination} (base64)"
        payload = _object("files", "", encoded, "text/plain", description)
        staged_payload = f"{STAGING_DIR}/{payload.sha256}"
        objects.append(payload)
        provisioners.append({"type": "file", "source": payload.path, "destination": staged_payload})
        args.insert(0, staged_payload)
    staged_step = f"{STAGING_DIR}/{obj.sha256}.sh"
    launcher = _object(
        "steps",
        ".sh",
        shellsteps.run_line(shlex.quote(staged_step), shellsteps.quote_words(args)) + "\n",
        "text/x-shellscript",
        f"launch step {step.name}",
    )
    objects.extend([obj, launcher])
    provisioners += [{"type": "file", "source": obj.path, "destination": staged_step}, _run(launcher)]
    return provisioners


def render_provisioners(
    steps: ResolvedSteps, family: str
) -> tuple[list[dict[str, Any]], tuple[BuildObject, ...]]:
    """The provisioners of the ``provision`` then ``validate`` steps, and the objects they reference (equal
    content is one object: the staging script of every file step, a script used twice)."""
    objects: list[BuildObject] = []
    provisioners: list[dict[str, Any]] = []
    for phase, items in steps.phases():
        if phase == "test":
            continue
        for step in items:
            provisioners.extend(_step(step, family, objects))
    unique: dict[str, BuildObject] = {}
    for obj in objects:
        unique.setdefault(obj.path, obj)
    return provisioners, tuple(unique.values())


def gcp_fingerprint(image_fp: str, spec: GcpSpec) -> str:
    """The GCP platform fingerprint: the image fingerprint plus every GCP input that changes the image
    (source image, disk size, storage location, CMEK key, guest OS features, Secure Boot)."""
    return platform_fingerprint(
        image_fp,
        "gcp",
        {
            "source": spec.source_image.reference,
            "disk_size_gb": spec.disk_size_gb,
            "storage_location": spec.storage_location,
            "kms_key": spec.kms_key,
            "guest_os_features": sorted(spec.guest_os_features),
            "secure_boot": spec.shielded_vm.secure_boot,
        },
    )


def render_build(
    image: ImageCore,
    steps: ResolvedSteps,
    *,
    environment: str,
    tags: dict[str, str],
    image_fingerprint: str,
    vm_service_account: str,
) -> RenderedBuild:
    """Render the Packer template and its objects for ``image`` (its ``gcp`` section must be set).

    ``provision`` then ``validate`` steps run on the build VM before the disk is captured; ``tests`` are not
    run on GCP (they need an instance launched from the new image, which the build does not do).
    The image is named ``<family>-<version with dashes>-<short GCP fingerprint>``, labelled with the
    canonical tag map rendered as GCP labels, and encrypted with ``kms_key``.
    """
    spec = getattr(image, "gcp", None)  # the catalog's ImageSpec carries the platform sections
    if not isinstance(spec, GcpSpec):
        raise ValueError(f"image {image.name!r} has no gcp section")
    fingerprint = gcp_fingerprint(image_fingerprint, spec)
    family = spec.image_family(image.name)
    name = gcp_image_name(family, image.version, fingerprint)
    labels = gcp_labels({**tags, "fingerprint": short(fingerprint)})
    provisioners, step_objects = render_provisioners(steps, image.os.family)

    source: dict[str, Any] = (
        {"source_image": spec.source_image.image}
        if spec.source_image.image is not None
        else {"source_image_family": spec.source_image.family}
    )
    builder: dict[str, Any] = {
        "type": "googlecompute",
        "project_id": spec.project,
        "zone": spec.build_zone,
        **source,
        "source_image_project_id": [spec.source_image.project],
        "machine_type": spec.machine_type,
        "disk_size": spec.disk_size_gb,
        "disk_type": spec.disk_type,
        "network": spec.network,
        "subnetwork": spec.subnetwork,
        # No external IP: the private Cloud Build pool reaches the VM on its internal address.
        "omit_external_ip": True,
        "use_internal_ip": True,
        "service_account_email": vm_service_account,
        "scopes": list(BUILD_VM_SCOPES),
        "tags": [BUILD_VM_TAG],
        "labels": labels,
        "metadata": {"block-project-ssh-keys": "true"},
        "use_os_login": False,
        "ssh_username": spec.ssh_username,
        "state_timeout": "10m",
        "enable_secure_boot": spec.shielded_vm.secure_boot,
        "enable_vtpm": spec.shielded_vm.vtpm,
        "enable_integrity_monitoring": spec.shielded_vm.integrity_monitoring,
        "image_name": name,
        "image_family": family,
        "image_description": no_template_syntax(
            f"{image.description} ({image.version}, {environment}, {fingerprint[:12]})"[:256],
            "the description",
        ),
        "image_labels": labels,
        "image_encryption_key": {"kmsKeyName": spec.kms_key},
        "image_storage_locations": [spec.storage_location],
    }
    if spec.network_project is not None:
        builder["network_project_id"] = spec.network_project
    template = {
        "description": f"golden-images {image.name} {image.version} ({environment})",
        "builders": [builder],
        "provisioners": provisioners,
    }
    text = render_template_text(template)
    template_object = _object("templates", ".json", text, "application/json", "Packer template")
    return RenderedBuild(
        template=template,
        template_object=template_object,
        step_objects=step_objects,
        image_name=name,
        family=family,
        labels=labels,
        fingerprint=fingerprint,
    )


def render_template_text(template: dict[str, Any]) -> str:
    """Canonical JSON text of a template (sorted keys, 2-space indent, trailing newline), so equal templates
    have equal bytes and equal object names."""
    return json.dumps(template, indent=2, sort_keys=True) + "\n"
