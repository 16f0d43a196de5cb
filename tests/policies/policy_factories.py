"""Compliant property sets per resource type (camelCase, as the engine sends them) and small helpers."""

from __future__ import annotations

import copy
import json
from typing import Any, Final

# The engine's wire sentinels, re-exported for the tests (written once, in the pack).
from golden_images_policies.wire import (  # noqa: F401 (re-exported)
    OUTPUT_SIG,
    RESOURCE_SIG,
    SECRET_SIG,
    SIG,
    UNKNOWN,
    UNKNOWN_ARRAY,
)

KEY: Final = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_US: Final = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234567890abcdef1234567890abcdef"
ACCOUNT: Final = "444455556666"
ORG: Final = "arn:aws:organizations::111122223333:organization/o-abcdefghij"
OU: Final = "arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-ab12-abcdefgh"
DES: Final = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.Compute/diskEncryptionSets/des-westeurope"
)
SUBNET: Final = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.Network/virtualNetworks/build/subnets/private"
)
INFRA_ARN: Final = "arn:aws:imagebuilder:eu-west-1:111122223333:infrastructure-configuration/base"
SUBSCRIPTION: Final = "00000000-0000-0000-0000-000000000001"
GCP_KEY: Final = "projects/p/locations/europe-west1/keyRings/images/cryptoKeys/golden"
ENCRYPTED_DATASTORE: Final = "enc-zfs"

T: Final = {
    "component": "aws:imagebuilder/component:Component",
    "container_recipe": "aws:imagebuilder/containerRecipe:ContainerRecipe",
    "workflow": "aws:imagebuilder/workflow:Workflow",
    "image_recipe": "aws:imagebuilder/imageRecipe:ImageRecipe",
    "distribution": "aws:imagebuilder/distributionConfiguration:DistributionConfiguration",
    "infrastructure": "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration",
    "pipeline": "aws:imagebuilder/imagePipeline:ImagePipeline",
    "ib_image": "aws:imagebuilder/image:Image",
    "ami": "aws:ec2/ami:Ami",
    "ami_copy": "aws:ec2/amiCopy:AmiCopy",
    "launch_permission": "aws:ec2/amiLaunchPermission:AmiLaunchPermission",
    "gallery": "azure-native:compute:Gallery",
    "gallery_image": "azure-native:compute:GalleryImage",
    "gallery_image_version": "azure-native:compute:GalleryImageVersion",
    "aib_template": "azure-native:virtualmachineimages:VirtualMachineImageTemplate",
    "gcp_image": "gcp:compute/image:Image",
    "gcp_machine_image": "gcp:compute/machineImage:MachineImage",
    "gcp_iam_binding": "gcp:compute/imageIamBinding:ImageIamBinding",
    "gcp_iam_member": "gcp:compute/imageIamMember:ImageIamMember",
    "gcp_iam_policy": "gcp:compute/imageIamPolicy:ImageIamPolicy",
    "pve_vm_legacy": "proxmoxve:index/vmLegacy:VmLegacy",
    "pve_vm": "proxmoxve:index/vm:Vm",
    "ami_from_instance": "aws:ec2/amiFromInstance:AmiFromInstance",
    "snapshot_permission": "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission",
    "image_block_public": "aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess",
    "snapshot_block_public": "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess",
    "snapshot_copy": "aws:ebs/snapshotCopy:SnapshotCopy",
    "snapshot_import": "aws:ebs/snapshotImport:SnapshotImport",
    "dlm_policy": "aws:dlm/lifecyclePolicy:LifecyclePolicy",
    "ram_association": "aws:ram/resourceAssociation:ResourceAssociation",
    "ram_exclusive": "aws:ram/resourceShareAssociationsExclusive:ResourceShareAssociationsExclusive",
    "sharing_profile": "azure-native:compute:GallerySharingProfile",
    "azure_image": "azure-native:compute:Image",
    "classic_gallery": "azure:compute/sharedImageGallery:SharedImageGallery",
    "classic_image_version": "azure:compute/sharedImageVersion:SharedImageVersion",
    "classic_image": "azure:compute/image:Image",
    "gcp_snapshot": "gcp:compute/snapshot:Snapshot",
    "gcp_project_member": "gcp:projects/iAMMember:IAMMember",
    "pve_vm2_legacy": "proxmoxve:index/vm2Legacy:Vm2Legacy",
    "pve_cloned_vm": "proxmoxve:cloned/vm:Vm",
    "pve_cloned_vm_legacy": "proxmoxve:cloned/vmLegacy:VmLegacy",
    "pve_container": "proxmoxve:index/containerLegacy:ContainerLegacy",
    "golden_image": "golden-images:index:GoldenImage",
    "aws_golden_image": "golden-images:index:AwsGoldenImage",
    "azure_golden_image": "golden-images:index:AzureGoldenImage",
    "gcp_golden_image": "golden-images:index:GcpGoldenImage",
    "proxmox_golden_template": "golden-images:index:ProxmoxGoldenTemplate",
}


#: The other GCP IAM kinds the image-IAM rule judges (per machine image / snapshot, and project, folder, org).
GCP_IAM_KINDS: Final = {
    f"gcp_{token.split(':')[1].replace('/', '_')}": token
    for token in (
        *(
            f"gcp:compute/{target}Iam{kind}:{target[0].upper()}{target[1:]}Iam{kind}"
            for target in ("machineImage", "snapshot", "instantSnapshot", "regionInstantSnapshot")
            for kind in ("Binding", "Member", "Policy")
        ),
        *(
            f"gcp:{scope}/iAM{kind}:IAM{kind}"
            for scope in ("projects", "folder", "organizations")
            for kind in ("Binding", "Member", "Policy")
        ),
    )
    if token != "gcp:projects/iAMMember:IAMMember"
}
T.update(GCP_IAM_KINDS)

#: Kinds with no compliant form: AmiFromInstance's encryption can never be proven from its inputs.
NEVER_COMPLIANT: Final = frozenset({"ami_from_instance"})


class _Delete:
    """Sentinel: remove the property. Its stable repr keeps test ids identical across xdist workers."""

    def __repr__(self) -> str:
        return "DELETE"

    __str__ = __repr__


DELETE: Final = _Delete()


def tags(env: str = "prod") -> dict[str, str]:
    return {
        "owner": "platform",
        "cost-center": "cc-1234",
        "environment": env,
        "managed-by": "golden-images",
        "golden-image": "base",
        "image-version": "1.4.2",
    }


def labels(env: str = "prod") -> dict[str, str]:
    return {**tags(env), "image-version": "1-4-2"}


def proxmox_tags(env: str = "prod") -> list[str]:
    return sorted(f"{k}.{v}" for k, v in tags(env).items())


def compliant(kind: str, env: str = "prod") -> dict[str, Any]:
    """A property set every policy accepts (given the sharing/datastore allow-lists of the configured pack)."""
    t = tags(env)
    component_arn = "arn:aws:imagebuilder:eu-west-1:111122223333:component/base-hardening/1.4.2/1"
    ebs = {"encrypted": "true", "kmsKeyId": KEY, "volumeSize": 20, "volumeType": "gp3"}
    props: dict[str, dict[str, Any]] = {
        "component": {
            "name": "base-hardening",
            "version": "1.4.2",
            "platform": "Linux",
            "data": "name: hardening\nschemaVersion: 1.0\nphases: []\n",
            "kmsKeyId": KEY,
            "tags": t,
        },
        "workflow": {
            "name": "build",
            "version": "1.4.2",
            "type": "BUILD",
            "data": "...",
            "kmsKeyId": KEY,
            "tags": t,
        },
        "container_recipe": {
            "name": "base-container",
            "version": "1.4.2",
            "containerType": "DOCKER",
            "parentImage": "arn:aws:imagebuilder:eu-west-1:aws:image/amazon-linux-x86-2023/2023.1.1",
            "components": [{"componentArn": component_arn}],
            "targetRepository": {"repositoryName": "base", "service": "ECR"},
            "kmsKeyId": KEY,
            "instanceConfiguration": {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": ebs}]},
            "tags": t,
        },
        "image_recipe": {
            "name": "base",
            "version": "1.4.2",
            "parentImage": "ami-0123456789abcdef0",
            "components": [{"componentArn": component_arn}],
            "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": dict(ebs)}],
            "tags": t,
        },
        "distribution": {
            "name": "base",
            "distributions": [
                {
                    "region": "eu-west-1",
                    "amiDistributionConfiguration": {
                        "name": "base-{{ imagebuilder:buildDate }}",
                        "kmsKeyId": KEY,
                        "amiTags": t,
                    },
                },
                {
                    "region": "us-east-1",
                    "amiDistributionConfiguration": {
                        "name": "base-{{ imagebuilder:buildDate }}",
                        "kmsKeyId": KEY_US,
                        "amiTags": t,
                    },
                },
            ],
            "tags": t,
        },
        "infrastructure": {
            "name": "base",
            "instanceProfileName": "golden-images-build",
            "instanceMetadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
            "terminateInstanceOnFailure": True,
            "subnetId": "subnet-0123456789abcdef0",
            "tags": t,
        },
        "pipeline": {
            "name": "base",
            "imageRecipeArn": "arn:aws:imagebuilder:eu-west-1:111122223333:image-recipe/base/1.4.2",
            "infrastructureConfigurationArn": INFRA_ARN,
            "imageTestsConfiguration": {"imageTestsEnabled": True, "timeoutMinutes": 60},
            "imageScanningConfiguration": {"imageScanningEnabled": True},
            "tags": t,
        },
        "ib_image": {
            "imageRecipeArn": "arn:aws:imagebuilder:eu-west-1:111122223333:image-recipe/base/1.4.2",
            "infrastructureConfigurationArn": INFRA_ARN,
            "imageScanningConfiguration": {"imageScanningEnabled": True},
            "tags": t,
        },
        "ami": {
            "name": "base-1.4.2",
            "rootDeviceName": "/dev/xvda",
            "ebsBlockDevices": [
                {"deviceName": "/dev/xvda", "snapshotId": "snap-0123456789abcdef0", "encrypted": True}
            ],
            "tags": t,
        },
        "ami_copy": {
            "name": "base-1.4.2",
            "sourceAmiId": "ami-0123456789abcdef0",
            "sourceAmiRegion": "eu-west-1",
            "encrypted": True,
            "kmsKeyId": KEY_US,
            "tags": t,
        },
        "launch_permission": {"imageId": "ami-0123456789abcdef0", "accountId": ACCOUNT},
        "gallery": {
            "galleryName": "golden",
            "resourceGroupName": "rg",
            "sharingProfile": {"permissions": "Private"},
            "tags": t,
        },
        "gallery_image": {
            "galleryName": "golden",
            "galleryImageName": "base",
            "resourceGroupName": "rg",
            "osType": "Linux",
            "osState": "Generalized",
            "identifier": {"publisher": "acme", "offer": "golden", "sku": "base"},
            "tags": t,
        },
        "gallery_image_version": {
            "galleryName": "golden",
            "galleryImageName": "base",
            "galleryImageVersionName": "1.4.2",
            "resourceGroupName": "rg",
            "publishingProfile": {
                "targetRegions": [
                    {"name": "westeurope", "encryption": {"osDiskImage": {"diskEncryptionSetId": DES}}},
                    {
                        "name": "northeurope",
                        "encryption": {
                            "osDiskImage": {"diskEncryptionSetId": DES.replace("westeurope", "northeurope")},
                            "dataDiskImages": [{"lun": 0, "diskEncryptionSetId": DES}],
                        },
                    },
                ]
            },
            "storageProfile": {
                "source": {"id": DES.rsplit("/providers/", 1)[0] + "/galleries/g/images/base/versions/1.4.1"}
            },
            "tags": t,
        },
        "aib_template": {
            "resourceGroupName": "rg",
            "source": {
                "type": "PlatformImage",
                "publisher": "Canonical",
                "offer": "ubuntu-24_04-lts",
                "sku": "server",
                "version": "24.04.202401010",
            },
            "vmProfile": {"vmSize": "Standard_D2s_v5", "vnetConfig": {"subnetId": SUBNET}},
            "distribute": [
                {"type": "SharedImage", "galleryImageId": "/x/images/base", "runOutputName": "base"}
            ],
            "tags": t,
        },
        "gcp_image": {
            "name": "base-1-4-2",
            "family": "base",
            "sourceImage": "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20240101",
            "imageEncryptionKey": {"kmsKeySelfLink": GCP_KEY},
            "labels": labels(env),
        },
        "gcp_machine_image": {
            "name": "base-1-4-2",
            "sourceInstance": "projects/p/zones/europe-west1-b/instances/builder",
            "machineImageEncryptionKey": {"kmsKeyName": GCP_KEY},
        },
        "gcp_iam_binding": {
            "image": "base-1-4-2",
            "role": "roles/compute.imageUser",
            "members": ["group:platform@example.com"],
        },
        "gcp_iam_member": {
            "image": "base-1-4-2",
            "role": "roles/compute.imageUser",
            "member": "user:a@example.com",
        },
        "gcp_iam_policy": {
            "image": "base-1-4-2",
            "policyData": json.dumps(
                {"bindings": [{"role": "roles/compute.imageUser", "members": ["group:platform@example.com"]}]}
            ),
        },
        "pve_vm_legacy": {
            "nodeName": "pve1",
            "name": "base-1-4-2",
            "template": True,
            "disks": [{"interface": "scsi0", "datastoreId": ENCRYPTED_DATASTORE, "size": 20}],
            "efiDisk": {"datastoreId": ENCRYPTED_DATASTORE, "type": "4m"},
            "initialization": {"datastoreId": ENCRYPTED_DATASTORE},
            "tags": proxmox_tags(env),
        },
        "pve_vm": {"nodeName": "pve1", "name": "base-1-4-2", "template": True, "tags": proxmox_tags(env)},
        "golden_image": {
            "imageName": "base",
            "version": "1.4.2",
            "environment": env,
            "fingerprint": "sha256:abc",
            "os": {"family": "ubuntu", "release": "24.04", "architecture": "x86_64", "lts": True},
            "tags": t,
        },
    }
    cloned = {
        "nodeName": "pve1",
        "name": "base-1-4-2",
        "clone": {"sourceVmId": 9000, "targetDatastore": ENCRYPTED_DATASTORE},
        "disk": {"scsi0": {"datastoreId": ENCRYPTED_DATASTORE, "sizeGb": 20}},
        "tags": proxmox_tags(env),
    }
    props.update(
        {
            "ami_from_instance": {"name": "base", "sourceInstanceId": "i-0123456789abcdef0", "tags": t},
            "snapshot_permission": {"snapshotId": "snap-0123456789abcdef0", "accountId": ACCOUNT},
            "image_block_public": {"state": "block-new-sharing"},
            "snapshot_block_public": {"state": "block-all-sharing"},
            "snapshot_copy": {
                "sourceSnapshotId": "snap-0123456789abcdef0",
                "sourceRegion": "eu-west-1",
                "encrypted": True,
                "kmsKeyId": KEY_US,
                "tags": t,
            },
            "snapshot_import": {
                "diskContainer": {
                    "format": "VHD",
                    "userBucket": {"s3Bucket": "imports", "s3Key": "base.vhd"},
                },
                "encrypted": True,
                "kmsKeyId": KEY,
                "tags": t,
            },
            "dlm_policy": {
                "description": "golden AMIs",
                "executionRoleArn": "arn:aws:iam::111122223333:role/dlm",
                "policyDetails": {
                    "policyType": "IMAGE_MANAGEMENT",
                    "resourceTypes": ["INSTANCE"],
                    "targetTags": {"golden-image": "base"},
                    "schedules": [
                        {
                            "name": "daily",
                            "createRule": {"interval": 24},
                            "retainRule": {"count": 7},
                            "crossRegionCopyRules": [
                                {"targetRegion": "us-east-1", "encrypted": True, "cmkArn": KEY_US}
                            ],
                            "shareRules": [{"targetAccounts": [ACCOUNT]}],
                        }
                    ],
                },
                "tags": t,
            },
            "ram_association": {
                "resourceArn": "arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-0123456789abcdef0",
                "resourceShareArn": "arn:aws:ram:eu-west-1:111122223333:resource-share/abc",
            },
            "ram_exclusive": {
                "resourceShareArn": "arn:aws:ram:eu-west-1:111122223333:resource-share/abc",
                "resourceArns": ["arn:aws:imagebuilder:eu-west-1:111122223333:image/base/1.4.2/1"],
                "principals": [ACCOUNT, OU],
            },
            "sharing_profile": {
                "galleryName": "golden",
                "resourceGroupName": "rg",
                "sharingUpdate": {
                    "operationType": "Add",
                    "groups": [{"type": "Subscriptions", "ids": [SUBSCRIPTION]}],
                },
            },
            "azure_image": {
                "resourceGroupName": "rg",
                "storageProfile": {
                    "osDisk": {"osType": "Linux", "osState": "Generalized", "diskEncryptionSet": {"id": DES}},
                    "dataDisks": [{"lun": 0, "diskEncryptionSet": {"id": DES}}],
                },
                "tags": t,
            },
            "classic_gallery": {
                "name": "golden",
                "resourceGroupName": "rg",
                "location": "westeurope",
                "tags": t,
            },
            "classic_image_version": {
                "name": "1.4.2",
                "galleryName": "golden",
                "imageName": "base",
                "resourceGroupName": "rg",
                "location": "westeurope",
                "targetRegions": [
                    {"name": "westeurope", "regionalReplicaCount": 1, "diskEncryptionSetId": DES},
                ],
                "tags": t,
            },
            "classic_image": {
                "name": "base",
                "resourceGroupName": "rg",
                "location": "westeurope",
                "osDisk": {"osType": "Linux", "osState": "Generalized", "diskEncryptionSetId": DES},
            },
            "gcp_snapshot": {
                "name": "base-1-4-2",
                "sourceDisk": "projects/p/zones/europe-west1-b/disks/builder",
                "snapshotEncryptionKey": {"kmsKeySelfLink": GCP_KEY},
            },
            "gcp_project_member": {
                "project": "p",
                "role": "roles/compute.imageUser",
                "member": "group:a@example.com",
            },
            "pve_vm2_legacy": {
                "nodeName": "pve1",
                "name": "base-1-4-2",
                "template": True,
                "tags": proxmox_tags(env),
            },
            "pve_cloned_vm": cloned,
            "pve_cloned_vm_legacy": copy.deepcopy(cloned),
            "pve_container": {
                "nodeName": "pve1",
                "template": True,
                "disk": {"datastoreId": ENCRYPTED_DATASTORE, "size": 8},
                "tags": proxmox_tags(env),
            },
        }
    )
    for name, token in GCP_IAM_KINDS.items():
        role = "roles/compute.imageUser"
        if token.endswith("Binding"):
            props[name] = {"role": role, "members": ["group:platform@example.com"]}
        elif token.endswith("Member"):
            props[name] = {"role": role, "member": "serviceAccount:builder@p.iam.gserviceaccount.com"}
        else:
            props[name] = {
                "policyData": json.dumps({"bindings": [{"role": role, "members": ["group:a@example.com"]}]})
            }
    for platform in ("aws_golden_image", "azure_golden_image", "gcp_golden_image", "proxmox_golden_template"):
        props[platform] = {
            "imageName": "base",
            "version": "1.4.2",
            "tags": t,
            "encryption": "attested" if platform == "proxmox_golden_template" else "enforced",
            "parentImage": "ami-0a1b2c3d4e5f60718",
        }
    return copy.deepcopy(props[kind])


def mutate(props: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``props`` with ``path`` (dotted; ints index lists) set to ``value`` or deleted."""
    result = copy.deepcopy(props)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = result
    for step in parents:
        node = node[step]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return result


def secret(value: Any) -> dict[str, Any]:
    """A secret as it travels on the wire."""
    return {SIG: SECRET_SIG, "value": value}
