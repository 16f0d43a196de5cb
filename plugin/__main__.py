"""Entry of the golden-images source-based plugin (``PulumiPlugin.yaml`` next to this file).

The Python language host runs it as ``python <plugin dir> <engine address> [flags]``; the provider prints
the port of its gRPC server on stdout and serves ``GetSchema`` (inferred from the component classes) and
``Construct`` for ``golden-images:index:{GoldenImage,AwsGoldenImage,AzureGoldenImage,GcpGoldenImage,
ProxmoxGoldenTemplate}``. The version is the installed golden-images distribution's (0.1.0 when it is not
installed as a distribution).
"""

from importlib import metadata

from pulumi.provider.experimental import component_provider_host

from golden_images_plugin.components import COMPONENTS

#: Package name of the schema: the type tokens are ``golden-images:index:<Component>``, the same tokens the
#: Python components register, so state and policies see the same resources from every language.
PACKAGE = "golden-images"


def version() -> str:
    """The installed ``golden-images`` distribution version (default ``0.1.0``)."""
    try:
        return metadata.version("golden-images")
    except metadata.PackageNotFoundError:
        return "0.1.0"


if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=PACKAGE, version=version())
