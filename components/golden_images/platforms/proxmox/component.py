"""``ProxmoxGoldenTemplate``: bake a catalog image into a Proxmox VE template on every configured node.

Resources (children named ``<name>-<role>``):

* ``provider``: an explicit pulumi-proxmoxve provider; the API token is a Pulumi secret (``args``, else the
  secret config ``golden-images:proxmoxApiToken``, else unset so the provider reads its own environment
  variable ``PROXMOX_VE_API_TOKEN``), SSH through the agent for snippet uploads;
* per node ``<node>-cloud-image``: the pinned cloud image (``download.File``) with its sha256 verified by
  PVE, a content-addressed file name, and neither ``overwrite`` nor ``overwrite_unmanaged`` (a changed upstream
  file or a foreign file of that name is an error, never silently replaced);
* per node ``<node>-user-data``: the cloud-init user data rendered from the spec's steps, uploaded as a
  snippet named by version and fingerprint;
* per node ``<node>-template-<version>``: the builder VM (``VmLegacy``) with the image's VM id for that
  version, the guest agent enabled, flat sorted tags and a description carrying version and fingerprint. It is
  created as an ordinary VM (``template: false``) and started: creating a template directly breaks linked
  clones on ZFS, and the disk must be provisioned before it becomes a template;
* per node ``<node>-bake-<version>``: :class:`~golden_images.platforms.proxmox.dynamic.ProxmoxTemplateBake`, which waits
  for the guest to report success and power off, then converts the VM into a template and applies retention.

Templates outlive Pulumi's bookkeeping on purpose (``retain_on_delete`` on the VM, a no-op delete on the
bake): the previous versions' templates keep serving clones until retention removes them.
"""

from __future__ import annotations

import dataclasses
from typing import NotRequired, TypedDict

import pulumi
import pulumi_proxmoxve as proxmoxve
from pulumi_proxmoxve import download

from golden_images.core.build import ImageBuild
from golden_images.core.tags import proxmox_tags
from golden_images.core.tokens import CONFIG_NAMESPACE, PROXMOX_GOLDEN_TEMPLATE
from golden_images.platforms.base import PlatformComponent
from golden_images.platforms.proxmox import layout
from golden_images.platforms.proxmox.cloudinit import render_user_data
from golden_images.platforms.proxmox.dynamic import ProxmoxTemplateBake
from golden_images.platforms.proxmox.spec import ProxmoxCloudImage, ProxmoxSpec

#: Project config keys (declared in Pulumi.yaml) used when ``args`` does not carry the connection.
ENDPOINT_KEY = "proxmoxEndpoint"
TOKEN_KEY = "proxmoxApiToken"
#: Margin on top of ``build_timeout_minutes`` for the engine-side create timeout of the bake (conversion,
#: task waits and retention run after the provisioning wait).
_BAKE_MARGIN_MINUTES = 15


class ProxmoxGoldenTemplateArgs(TypedDict):
    """Inputs of :class:`ProxmoxGoldenTemplate`."""

    build: ImageBuild
    """The derived image build (spec, environment, canonical tags, resolved steps, fingerprint). Its
    ``image.proxmox`` section must be set."""
    parent: NotRequired[ProxmoxGoldenTemplate]
    """The golden parent's Proxmox component (required when ``proxmox.parent`` names one): each node's build
    VM is a full clone of its template on that node, created once the parent's bake converted it."""
    endpoint: NotRequired[pulumi.Input[str]]
    """The PVE API endpoint (``https://host:8006/``). Default: config ``golden-images:proxmoxEndpoint``."""
    api_token: NotRequired[pulumi.Input[str]]
    """The API token ``<user>@<realm>!<id>=<secret>``; wrapped as a secret. Default: the secret config
    ``golden-images:proxmoxApiToken`` when the stack sets it, otherwise none: the provider and the bake then
    read ``PROXMOX_VE_API_TOKEN`` from the environment of ``pulumi up`` (never put into the state)."""


def parent_reference(spec: ProxmoxSpec) -> str:
    """The pinned base image: ``<cloud image url>@sha256:<digest>``."""
    return f"{spec.cloud_image.url}@sha256:{spec.cloud_image.sha256}"


class ProxmoxGoldenTemplate(PlatformComponent):
    """One catalog image baked into a Proxmox VE template per node."""

    artifacts: pulumi.Output[dict[str, int]]
    """Node → VM id of the template (known once the bake converted it)."""
    built_at: pulumi.Output[str] | None
    """When the first node's template was converted (ISO-8601 UTC); ``None`` in a preview."""
    encryption_level: str
    """``attested`` when the template's datastore is on ``encrypted_datastores``, else ``none``."""
    parent_reference: str
    """The pinned cloud image: ``<url>@sha256:<digest>``."""
    vm_ids: dict[str, int]
    """Node → VM id, computed from the version (plain values, for consumers that need them at once)."""
    bakes: dict[str, ProxmoxTemplateBake]
    """Node → the bake that converts the template there (a layered child's clone waits for it)."""
    root_cloud_image: ProxmoxCloudImage
    """The cloud image at the root of the chain (this image's own unless it is layered)."""
    image_ref: str
    """``<image>@<version>``: how a layered child names this parent."""

    def __init__(
        self, name: str, args: ProxmoxGoldenTemplateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        build = args["build"]
        spec = build.section("proxmox", ProxmoxSpec)
        golden = args.get("parent")
        if spec.parent is not None:
            if golden is None:
                raise ValueError(
                    f"image {build.image.name!r} builds on {spec.parent.image!r}: pass its Proxmox component"
                )
            # Layered: the bytes start from the root's cloud image (the fingerprint chain covers the layers
            # in between); the disk itself comes from cloning the parent's template below.
            spec = spec.model_copy(update={"cloud": golden.root_cloud_image})
            build = dataclasses.replace(build, image=build.image.model_copy(update={"proxmox": spec}))
        image = build.image
        self.root_cloud_image = spec.cloud_image
        parent_ref = golden.image_ref if golden is not None else parent_reference(spec)
        self.image_ref = f"{image.name}@{image.version}"
        encryption = layout.encryption_level(spec)
        self.vm_ids = {node: layout.template_vm_id(spec, image.version, node) for node in spec.nodes}
        super().__init__(
            PROXMOX_GOLDEN_TEMPLATE,
            name,
            build,
            {
                "environment": build.environment,
                "nodes": list(spec.nodes),
                "vmIds": dict(self.vm_ids),
                "parentImage": parent_ref,
                "encryption": encryption,
            },
            opts,
            parent=golden,
        )
        config = pulumi.Config(CONFIG_NAMESPACE)
        endpoint: pulumi.Input[str] = args.get("endpoint") or config.require(ENDPOINT_KEY)
        token_input = args.get("api_token")
        token: pulumi.Output[str] | None = (
            pulumi.Output.secret(token_input) if token_input is not None else config.get_secret(TOKEN_KEY)
        )
        provider = proxmoxve.Provider(
            f"{name}-provider",
            proxmoxve.ProviderArgs(
                endpoint=endpoint,
                api_token=token,
                insecure=spec.insecure_tls,
                # Snippets (the user data) are written over SSH: the PVE API cannot upload them.
                ssh=proxmoxve.ProviderSshArgs(agent=True, username=spec.ssh_username),
            ),
            pulumi.ResourceOptions(parent=self),
        )
        on_pve = pulumi.ResourceOptions(parent=self, provider=provider)

        fingerprint = layout.template_fingerprint(build.fingerprint, spec)
        user_data = render_user_data(image, build.steps, fingerprint)
        description = layout.template_description(
            image.description, image.name, image.version, build.environment, fingerprint, build.fingerprint
        )
        tags = proxmox_tags(build.tags)
        bakes: list[ProxmoxTemplateBake] = []
        self.bakes: dict[str, ProxmoxTemplateBake] = {}
        for node in spec.nodes:
            vm_id = self.vm_ids[node]
            disk_file_id: pulumi.Input[str] | None = None
            clone: proxmoxve.VmLegacyCloneArgs | None = None
            if golden is None:
                cloud_image = download.File(
                    f"{name}-{node}-cloud-image",
                    download.FileArgs(
                        node_name=node,
                        datastore_id=spec.image_datastore,
                        content_type="iso",
                        url=spec.cloud_image.url,
                        file_name=layout.cloud_image_file_name(image.name, spec.cloud_image.sha256),
                        checksum=spec.cloud_image.sha256,
                        checksum_algorithm="sha256",
                        # Pinned bytes: never replace the file because upstream changed, never clobber a file
                        # someone else put there.
                        overwrite=False,
                        overwrite_unmanaged=False,
                        verify=True,
                        upload_timeout=1800,
                    ),
                    on_pve,
                )
                disk_file_id = cloud_image.id
            else:
                # Layered: a full clone of the parent's template on this node (its disk, EFI vars and TPM
                # state), provisioned by this image's steps like a fresh cloud image would be.
                clone = proxmoxve.VmLegacyCloneArgs(vm_id=golden.bakes[node].vm_id, node_name=node, full=True)
            snippet = proxmoxve.FileLegacy(
                f"{name}-{node}-user-data",
                proxmoxve.FileLegacyArgs(
                    node_name=node,
                    datastore_id=spec.snippets_datastore,
                    content_type="snippets",
                    source_raw=proxmoxve.FileLegacySourceRawArgs(
                        data=user_data,
                        file_name=layout.snippet_file_name(image.name, image.version, fingerprint),
                    ),
                    overwrite=False,
                ),
                on_pve,
            )
            vm = proxmoxve.VmLegacy(
                f"{name}-{node}-template-{image.version}",
                self._vm_args(build, spec, node, vm_id, disk_file_id, snippet.id, description, tags, clone),
                pulumi.ResourceOptions(
                    parent=self,
                    provider=provider,
                    # A clone needs the parent's template converted (baked) first.
                    depends_on=[golden.bakes[node]] if golden is not None else None,
                    # Older versions' templates stay when the version moves on; retention prunes them.
                    retain_on_delete=True,
                    # Same VM id for the same version: the old VM must go before a new one can exist.
                    delete_before_replace=True,
                    # The bake turns the VM into a stopped template and drops the bake user data; the
                    # description keeps the fingerprint the disk was actually baked from, and the disk is
                    # never re-imported under a template (a new build is a new version: the bake refuses
                    # a changed fingerprint for the same version with a clear message).
                    ignore_changes=[
                        "template",
                        "started",
                        "initialization",
                        "description",
                        "disks",
                        "efi_disk",
                        "tpm_state",
                    ],
                ),
            )
            bakes.append(
                self.bakes.setdefault(
                    node,
                    ProxmoxTemplateBake(
                        f"{name}-{node}-bake-{image.version}",
                        {
                            "endpoint": endpoint,
                            "api_token": token,
                            "insecure_tls": spec.insecure_tls,
                            "node": node,
                            "vm_id": vm.vm_id.apply(lambda v, default=vm_id: v if v is not None else default),
                            "image": image.name,
                            "environment": build.environment,
                            "fingerprint": fingerprint,
                            "timeout_seconds": spec.build_timeout_minutes * 60,
                            "poll_seconds": spec.poll_interval_seconds,
                            "retain": spec.retain,
                            "vm_id_min": spec.vm_id_range.start,
                            "vm_id_max": spec.vm_id_range.end,
                            "keep_failed_builder": spec.keep_failed_builder,
                        },
                        pulumi.ResourceOptions(
                            parent=self,
                            depends_on=[vm],
                            custom_timeouts=pulumi.CustomTimeouts(
                                create=f"{spec.build_timeout_minutes + _BAKE_MARGIN_MINUTES}m"
                            ),
                        ),
                    ),
                )
            )

        nodes = list(spec.nodes)
        # The conversion time exists only once `pulumi up` converted the template; in a preview it would be an
        # unknown that makes the whole version record unknown, so the record says "not built" instead.
        self.built_at = None if pulumi.runtime.is_dry_run() else bakes[0].converted_at
        self.finish(
            pulumi.Output.all(*[b.vm_id for b in bakes]).apply(
                lambda ids: {node: int(i) for node, i in zip(nodes, ids, strict=True)}
            ),
            encryption_level=encryption,
            parent_reference=parent_ref,
            outputs={"builtAt": self.built_at, "parentImage": parent_ref},
        )

    @staticmethod
    def _vm_args(
        build: ImageBuild,
        spec: ProxmoxSpec,
        node: str,
        vm_id: int,
        disk_file_id: pulumi.Input[str] | None,
        user_data_file_id: pulumi.Input[str],
        description: str,
        tags: list[str],
        clone: proxmoxve.VmLegacyCloneArgs | None = None,
    ) -> proxmoxve.VmLegacyArgs:
        image = build.image
        store = spec.vm_datastore
        uefi = spec.uefi
        return proxmoxve.VmLegacyArgs(
            node_name=node,
            vm_id=vm_id,
            clone=clone,
            name=layout.builder_vm_name(image.name, image.version),
            description=description,
            tags=tags,
            template=False,
            started=True,
            on_boot=False,
            machine="q35",
            bios="ovmf" if uefi else "seabios",
            efi_disk=proxmoxve.VmLegacyEfiDiskArgs(
                datastore_id=store, file_format="raw", type="4m", pre_enrolled_keys=True
            )
            if uefi
            else None,
            tpm_state=proxmoxve.VmLegacyTpmStateArgs(datastore_id=store, version="v2.0") if uefi else None,
            # The bake waits for the guest itself; a short agent timeout keeps the provider from blocking on
            # IP discovery while the agent is still being installed by cloud-init.
            agent=proxmoxve.VmLegacyAgentArgs(enabled=True, trim=True, timeout="2m"),
            cpu=proxmoxve.VmLegacyCpuArgs(cores=spec.cpu_cores, sockets=1, type=spec.cpu_type),
            memory=proxmoxve.VmLegacyMemoryArgs(dedicated=spec.memory_mb),
            scsi_hardware="virtio-scsi-single",
            disks=[
                proxmoxve.VmLegacyDiskArgs(
                    interface="scsi0",
                    datastore_id=store,
                    file_id=disk_file_id,
                    size=spec.disk_gb,
                    discard="on",
                    iothread=True,
                    ssd=True,
                )
            ],
            network_devices=[
                proxmoxve.VmLegacyNetworkDeviceArgs(bridge=spec.bridge, model="virtio", vlan_id=spec.vlan_id)
            ],
            initialization=proxmoxve.VmLegacyInitializationArgs(
                datastore_id=store,
                interface="ide2",
                user_data_file_id=user_data_file_id,
                ip_configs=[
                    proxmoxve.VmLegacyInitializationIpConfigArgs(
                        ipv4=proxmoxve.VmLegacyInitializationIpConfigIpv4Args(address="dhcp")
                    )
                ],
            ),
            operating_system=proxmoxve.VmLegacyOperatingSystemArgs(type="l26"),
            # Cloud images log to the serial console; without it a failed bake is hard to inspect.
            serial_devices=[proxmoxve.VmLegacySerialDeviceArgs(device="socket")],
            stop_on_destroy=True,
        )
