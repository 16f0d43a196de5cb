"""The five components as Pulumi's source-based component provider sees them.

``pulumi.provider.experimental.component_provider_host`` infers the provider schema from these classes: each
``__init__``'s ``args`` annotation gives the inputs (the generated plain-data types in
:mod:`golden_images_plugin.catalog_types`) and each annotated class attribute an output; docstrings become
descriptions. The real components (``golden_images.golden_image.GoldenImage`` and the four platform
components) cannot be analyzed as they are: their modules use postponed annotations (the analyzer reads
them as strings and fails with ``AttributeError: 'str' object has no attribute '__mro__'``), and their args
carry the internal ``ImageBuild``, which is no schema type.

So these classes are thin: calling one validates its plain data with the catalog model
(``golden_images.api.image_build``, the same path as a Python program passing plain data) and constructs the
real component with the same type token and name. The call returns what the provider reads back — the real
platform component itself, or for ``GoldenImage`` a view holding its URN and the typed version record — not
an instance of the class (``__new__`` returns it, so ``__init__`` never runs). These classes are for the
provider only; Python programs use ``golden_images.golden_image.GoldenImage`` directly (docs/reuse.md).

Output decisions: the version record is both a typed object (``record``; schema property names are
camelCase as in every Pulumi schema, e.g. ``launch.aws["us-east-1"].ssmParameter``) and the exact contract as
a JSON string (``recordJson``: snake_case keys and ``null`` values, byte-for-byte what a Python program would
``json.dumps``). ``None`` values are left out of the typed object (optional properties).
"""

import importlib
import inspect
import json
import typing
from typing import Any, NotRequired, TypedDict

import pulumi

from golden_images import api
from golden_images.golden_image import PLATFORM_COMPONENTS
from golden_images.golden_image import GoldenImage as RealGoldenImage
from golden_images_plugin.catalog_types import (
    AwsGoldenImageArgs,
    AzureGoldenImageArgs,
    GcpGoldenImageArgs,
    GoldenImageArgs,
    ProxmoxGoldenTemplateArgs,
)

# --- Output types ---------------------------------------------------------------------------------------------


class ProxmoxCloudImageOutput(TypedDict):
    """A pinned Proxmox cloud image (``ProxmoxGoldenTemplate.root_cloud_image``)."""

    url: str
    """The ``https`` URL of one specific cloud-image build."""
    sha256: str
    """Its sha256 digest (hex), which PVE verifies after the download."""


class AzureArtifacts(TypedDict):
    """Where an Azure bake lands (``AzureGoldenImage.artifacts``)."""

    gallery: str
    """Compute Gallery name."""
    gallery_image_id: str
    """ARM id of the gallery image definition."""
    version_id: NotRequired[str]
    """The published gallery image version (customer keys + bake) or the build's run output, else absent."""
    version_name: NotRequired[str]
    """The published version's name (the image version); absent unless published here."""
    template: str
    """The AIB template name (``<image>-<env>-<fingerprint>``)."""
    run_output: str
    """The template's run output name."""
    resolve: NotRequired[str]
    """The ``az`` command that finds the run's artifact when ``version_id`` is not known to Pulumi."""
    regions: list[str]
    """Replication regions."""


class GcpArtifacts(TypedDict):
    """Where a GCP bake lands (``GcpGoldenImage.artifacts``)."""

    project: str
    """The project holding the image family."""
    family: str
    """The image family."""
    image: str
    """The image name the next bake produces (``<family>-<version>-<fingerprint>``)."""
    resolve: str
    """How consumers look the newest image of the family up (Pulumi Python)."""


class RecordArtifacts(TypedDict):
    """The version record's ``artifacts``: one entry per platform the image is built on."""

    aws: NotRequired[dict[str, str]]
    """Region → ``ami-…`` (baked by this ``pulumi up``) or ``ssm:<parameter>`` holding the newest AMI id."""
    azure: NotRequired[AzureArtifacts]
    """See ``AzureArtifacts``."""
    gcp: NotRequired[GcpArtifacts]
    """See ``GcpArtifacts``."""
    proxmox: NotRequired[dict[str, int]]
    """Node → VM id of the template."""


class AwsLaunch(TypedDict):
    """What EC2 launch APIs accept for one region."""

    resolve: str
    """``resolve:ssm:<parameter>`` (an ``imageId`` for launch templates and instances)."""
    ssm_parameter: str
    """The SSM parameter holding the newest AMI id."""
    ami_id: NotRequired[str]
    """The AMI id when this stack's ``pulumi up`` baked it; absent otherwise."""


class AzureLaunch(TypedDict):
    """What Azure VM APIs accept."""

    definition_id: str
    """Gallery image definition id (the newest version is used)."""
    version_id: NotRequired[str]
    """A specific gallery image version id; absent until a bake published one."""


class GcpLaunch(TypedDict):
    """What Compute Engine APIs accept."""

    project: str
    """Project of the image family."""
    family: str
    """Image family."""
    family_self_link: str
    """Self link of the family (newest image)."""
    image_self_link: str
    """Self link of this fingerprint's image."""


class ProxmoxLaunch(TypedDict):
    """What a Proxmox clone needs on one node."""

    vm_id: int
    """VM id of the template to clone."""


class RecordLaunch(TypedDict):
    """The version record's ``launch``: what each platform's launch API accepts as is."""

    aws: NotRequired[dict[str, AwsLaunch]]
    """Region → launch reference."""
    azure: NotRequired[AzureLaunch]
    """Azure launch reference."""
    gcp: NotRequired[GcpLaunch]
    """GCP launch reference."""
    proxmox: NotRequired[dict[str, ProxmoxLaunch]]
    """Node → launch reference."""


class AncestryEntry(TypedDict):
    """One link of a platform's image chain, parent first: a golden parent (``image``, ``version``, ``ref``,
    ``fingerprint``) or, last, the root's vendor source (``vendor``). The contract's two shapes in one type
    (the schema has no unions)."""

    image: NotRequired[str]
    """Golden parent: its image name."""
    version: NotRequired[str]
    """Golden parent: its version."""
    ref: NotRequired[str]
    """Golden parent: ``<image>@<version>``."""
    fingerprint: NotRequired[str]
    """Golden parent: its fingerprint."""
    vendor: NotRequired[str]
    """Root: the vendor source the chain starts from; absent when unknown."""


class VersionRecord(TypedDict):
    """The version record (``golden_images.golden_image``; schema ``schemas/version-record.schema.json``):
    the contract for consumers, channels, promotion and revocation."""

    name: str
    """Image name."""
    version: str
    """Image version (semver)."""
    fingerprint: str
    """sha256 over everything that changes the image bytes."""
    parent: dict[str, str]
    """Platform → the pinned base image reference."""
    built_at: NotRequired[str]
    """When this stack's ``pulumi up`` baked the image itself; absent otherwise."""
    artifacts: RecordArtifacts
    """Per platform, where the image lands."""
    encryption: dict[str, str]
    """Platform → ``enforced`` | ``verified`` | ``attested`` | ``platform-default`` | ``none``."""
    tags: dict[str, str]
    """The canonical tag map."""
    launch: RecordLaunch
    """Per platform, what its launch API accepts."""
    ancestry: NotRequired[dict[str, list[AncestryEntry]]]
    """Platform → the chain its image is built on, parent first (absent in records older than layering)."""


# --- Plain data in, real components out ----------------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def schema_record(record: dict[str, Any]) -> dict[str, Any]:
    """The version record as the provider hands it to the SDK for the typed ``record`` output.

    The SDK renames snake_case keys to the schema's camelCase only along direct object references; values of
    a map of objects (``launch.aws.<region>``, ``launch.proxmox.<node>``) pass through unrenamed (pulumi
    3.272 ``ComponentProvider.map_complex_output``), so those are renamed here. ``None`` values are dropped:
    those properties are optional in the schema.
    """
    out = _without_none(record)
    launch = out.get("launch", {})
    for platform in ("aws", "proxmox"):
        if isinstance(launch.get(platform), dict):
            launch[platform] = {
                key: {_camel(k): v for k, v in entry.items()} for key, entry in launch[platform].items()
            }
    return typing.cast(dict[str, Any], out)


def _refuse(where: str, path: str, message: str) -> api.ImageArgsError:
    return api.ImageArgsError([api.Issue(where, path, message)])


def plain_args(args: Any, args_type: Any, where: str, *, inputs: tuple[str, ...] = ()) -> dict[str, Any]:
    """The mapped Construct inputs as the plain data ``golden_images.api.image_build`` validates.

    Integers arrive as floats (protobuf numbers; pulumi 3.272's ``map_input_properties`` converts them and
    then overwrites the conversion), which the strict catalog model refuses, so integral floats in
    integer-typed fields become ``int`` again (by the args type, nowhere else). A plain field holding an
    Output or an unknown (a caller passing another resource's output) is refused with its path: the catalog
    model validates values, not promises. ``inputs`` names the top-level keys that accept Outputs.
    """
    if not isinstance(args, dict):
        raise _refuse(where, "(args)", f"args must be an object, not {type(args).__name__}")
    return typing.cast(
        dict[str, Any],
        {
            key: value if key in inputs else _plain(value, _hints(args_type).get(key, Any), where, key)
            for key, value in args.items()
        },
    )


def _hints(typed_dict: Any) -> dict[str, Any]:
    """A TypedDict's field types without ``NotRequired``. Read raw (``inspect.get_annotations``): this module
    and the generated one evaluate annotations already, and ``typing.get_type_hints`` cannot resolve the
    ``Output[T]`` forward reference inside ``pulumi.Input``."""
    if not typing.is_typeddict(typed_dict):
        return {}
    unwrap = (NotRequired, typing.Required)
    return {
        key: typing.get_args(hint)[0] if typing.get_origin(hint) in unwrap else hint
        for key, hint in inspect.get_annotations(typed_dict).items()
    }


def _plain(value: Any, hint: Any, where: str, path: str) -> Any:
    if isinstance(value, pulumi.Output | pulumi.output.Unknown):
        raise _refuse(
            where,
            path,
            "must be a plain value known when the component is constructed (the schema marks it plain); "
            "an Output or unknown value cannot be validated by the catalog model",
        )
    origin = typing.get_origin(hint)
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        if typing.is_typeddict(hint):
            fields = _hints(hint)
            return {k: _plain(v, fields.get(k, Any), where, f"{path}.{k}") for k, v in value.items()}
        item = typing.get_args(hint)[1] if origin is dict else Any
        return {k: _plain(v, item, where, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        item = typing.get_args(hint)[0] if origin is list else Any
        return [_plain(v, item, where, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _platform_class(platform: str) -> Any:
    module_name, class_name = PLATFORM_COMPONENTS[platform]
    return getattr(importlib.import_module(module_name), class_name)


class _Constructed:
    """What ``ComponentProvider.construct`` reads back from a constructed component: its URN and, by
    attribute, each output of the schema."""

    def __init__(self, urn: pulumi.Output[str], **outputs: Any) -> None:
        self.urn = urn
        for key, value in outputs.items():
            setattr(self, key, value)


def construct_golden_image(name: str, args: Any, opts: pulumi.ResourceOptions | None) -> _Constructed:
    """Validate ``args`` (:class:`GoldenImageArgs`) and construct the real ``GoldenImage``."""
    where = f"GoldenImage({name})"
    build = api.image_build(name, plain_args(args, GoldenImageArgs, where), source=where)
    image = RealGoldenImage(name, {"build": build}, opts)
    return _Constructed(
        image.urn,
        record=image.record.apply(schema_record),
        record_json=image.record.apply(lambda r: json.dumps(r, sort_keys=True)),
    )


def construct_platform(
    platform: str, name: str, args: Any, args_type: Any, opts: pulumi.ResourceOptions | None
) -> Any:
    """Validate ``args`` (one image with its ``platform`` section) and construct that platform's component."""
    cls = _platform_class(platform)
    where = f"{cls.__name__}({name})"
    connection = ("endpoint", "api_token") if platform == "proxmox" else ()
    data = plain_args(args, args_type, where, inputs=connection)
    if platform not in data:
        raise _refuse(where, platform, f"the {platform} section is required")
    extras = {key: data.pop(key) for key in connection if key in data}
    build = api.image_build(name, data, source=where)
    component = cls(name, {"build": build, **extras}, opts)
    if platform != "proxmox":
        return component
    # The real component holds its root cloud image as the catalog's pydantic model, which is no wire value:
    # the provider reads a view with the same outputs, that one as a plain dict.
    return _Constructed(
        component.urn,
        artifacts=component.artifacts,
        built_at=component.built_at,
        encryption_level=component.encryption_level,
        parent_reference=component.parent_reference,
        vm_ids=component.vm_ids,
        root_cloud_image=component.root_cloud_image.model_dump(),
        image_ref=component.image_ref,
    )


class GoldenImage(pulumi.ComponentResource):
    """A golden image across platforms: one catalog image (plain data, validated by the catalog model)
    baked on every platform whose section is set. Children: ``AwsGoldenImage``, ``AzureGoldenImage``,
    ``GcpGoldenImage``, ``ProxmoxGoldenTemplate`` named ``<name>-<platform>``. Registers as
    ``golden-images:index:GoldenImage``, exactly as the Python component does."""

    record: pulumi.Output[VersionRecord]
    """The version record as a typed object (camelCase property names)."""
    record_json: pulumi.Output[str]
    """The version record as JSON: the exact contract (snake_case keys, ``null`` values), as Python sees it."""

    def __new__(cls, name: str, args: GoldenImageArgs, opts: pulumi.ResourceOptions | None = None) -> Any:
        return construct_golden_image(name, args, opts)

    def __init__(self, name: str, args: GoldenImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Not reached: __new__ returns the constructed view (no instance of this class), so Python skips it.
        # It exists for its annotations: the analyzer reads the inputs from ``args``.
        raise TypeError("constructed by __new__")  # pragma: no cover


class AwsGoldenImage(pulumi.ComponentResource):
    """An EC2 Image Builder pipeline (and optionally one build) for one catalog image: component, recipe,
    infrastructure, distribution (a customer-managed KMS key per region), pipeline and lifecycle policy.
    Registers as ``golden-images:index:AwsGoldenImage``."""

    artifacts: pulumi.Output[dict[str, str]]
    """Region → ``ami-…`` (when baked by ``pulumi up``) or ``ssm:<parameter>`` holding the newest AMI id."""
    pipeline_arn: pulumi.Output[str]
    """ARN of the Image Builder pipeline."""
    recipe_arn: pulumi.Output[str]
    """ARN of the image recipe."""
    built_at: pulumi.Output[str] | None
    """Creation date of the one-shot build; absent without ``bake_on_up``."""
    encryption_level: str
    """``enforced``: every region's AMI is encrypted with the customer key set for it."""
    parent_reference: str
    """The pinned parent image the recipe uses."""

    def __new__(cls, name: str, args: AwsGoldenImageArgs, opts: pulumi.ResourceOptions | None = None) -> Any:
        return construct_platform("aws", name, args, AwsGoldenImageArgs, opts)

    def __init__(
        self, name: str, args: AwsGoldenImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:  # see GoldenImage.__init__
        raise TypeError("constructed by __new__")  # pragma: no cover


class AzureGoldenImage(pulumi.ComponentResource):
    """An Azure VM Image Builder template publishing one catalog image into its own Compute Gallery (with
    customer keys: a published version with a disk encryption set per region). Registers as
    ``golden-images:index:AzureGoldenImage``."""

    artifacts: pulumi.Output[AzureArtifacts]
    """Gallery, definition, version (when published), template and run output."""
    gallery_image_id: pulumi.Output[str]
    """ARM id of the published gallery image definition."""
    template_name: str
    """Name of the AIB template (``<image>-<env>-<fingerprint>``)."""
    built_at: pulumi.Output[str] | None
    """When the bake published the version or the runner finished; absent without a waiting bake."""
    encryption_level: str
    """``enforced`` (a disk encryption set in every target region) or ``platform-default``."""
    parent_reference: str
    """The pinned source: ``publisher:offer:sku:version`` or the gallery image version id."""
    child_source: str
    """The gallery image version a layered child builds from (``…/versions/<version>`` or ``…/versions/latest``)."""

    def __new__(
        cls, name: str, args: AzureGoldenImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> Any:
        return construct_platform("azure", name, args, AzureGoldenImageArgs, opts)

    def __init__(
        self, name: str, args: AzureGoldenImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:  # see GoldenImage.__init__
        raise TypeError("constructed by __new__")  # pragma: no cover


class GcpGoldenImage(pulumi.ComponentResource):
    """A Cloud Build + Packer pipeline baking one catalog image into a CMEK-encrypted GCP image family
    (bakes run asynchronously on a Pub/Sub message). Registers as ``golden-images:index:GcpGoldenImage``."""

    artifacts: pulumi.Output[GcpArtifacts]
    """Project, family, the next bake's image name and the consumer lookup."""
    trigger_id: pulumi.Output[str]
    """Id of the Cloud Build trigger that bakes the image."""
    bucket: pulumi.Output[str]
    """Name of the build bucket holding the template and step files."""
    topic: str
    """Pub/Sub topic path; publishing any message to it starts a bake."""
    image_name: str
    """The image name the next bake produces."""
    project: str
    """The project the image family is in."""
    built_at: pulumi.Output[str] | None
    """Always absent: bakes run in Cloud Build, not during ``pulumi up``."""
    encryption_level: str
    """``enforced``: the template sets the CMEK key; the build's verify step reads it back."""
    parent_reference: str
    """The source image (``projects/<p>/global/images/<name>`` or ``…/family/<f>`` outside prod)."""

    def __new__(cls, name: str, args: GcpGoldenImageArgs, opts: pulumi.ResourceOptions | None = None) -> Any:
        return construct_platform("gcp", name, args, GcpGoldenImageArgs, opts)

    def __init__(
        self, name: str, args: GcpGoldenImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:  # see GoldenImage.__init__
        raise TypeError("constructed by __new__")  # pragma: no cover


class ProxmoxGoldenTemplate(pulumi.ComponentResource):
    """One catalog image baked into a Proxmox VE template on every configured node (pinned cloud image,
    cloud-init, converted only after provisioning finished). Registers as
    ``golden-images:index:ProxmoxGoldenTemplate``."""

    artifacts: pulumi.Output[dict[str, int]]
    """Node → VM id of the template (known once the bake converted it)."""
    built_at: pulumi.Output[str] | None
    """When the first node's template was converted (ISO-8601 UTC); absent in a preview."""
    encryption_level: str
    """``attested`` when the template's datastore is on ``encrypted_datastores``, else ``none``."""
    parent_reference: str
    """The pinned cloud image: ``<url>@sha256:<digest>``."""
    vm_ids: dict[str, int]
    """Node → VM id, computed from the version."""
    root_cloud_image: ProxmoxCloudImageOutput
    """The pinned cloud image at the root of the chain (this image's own; a layered image is refused here)."""
    image_ref: str
    """``<image>@<version>``: how a layered child names this template as its parent."""

    def __new__(
        cls, name: str, args: ProxmoxGoldenTemplateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> Any:
        return construct_platform("proxmox", name, args, ProxmoxGoldenTemplateArgs, opts)

    def __init__(
        self, name: str, args: ProxmoxGoldenTemplateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:  # see GoldenImage.__init__
        raise TypeError("constructed by __new__")  # pragma: no cover


#: What ``plugin/__main__.py`` hosts, in schema order.
COMPONENTS: list[type[pulumi.ComponentResource]] = [
    GoldenImage,
    AwsGoldenImage,
    AzureGoldenImage,
    GcpGoldenImage,
    ProxmoxGoldenTemplate,
]


# The analyzer copies class docstrings into the schema as they are (only stripped): without the source's
# indentation, every generated SDK's documentation reads cleanly. Field docstrings here are one line each.
for _documented in [
    *COMPONENTS,
    ProxmoxCloudImageOutput,
    AzureArtifacts,
    GcpArtifacts,
    RecordArtifacts,
    AwsLaunch,
    AzureLaunch,
    GcpLaunch,
    ProxmoxLaunch,
    RecordLaunch,
    AncestryEntry,
    VersionRecord,
]:
    _documented.__doc__ = inspect.cleandoc(_documented.__doc__ or "")
