"""Write ``plugin/golden_images_plugin/catalog_types.py``: the plugin's input types, generated from the catalog.

The provider schema (``GetSchema``) is inferred by Pulumi's component analyzer from ``TypedDict`` annotations
and from the docstring under each field (read from the source with ``ast``; inherited fields lose theirs, so
every args class is written out in full). Writing ~90 fields by hand would drift from the pydantic catalog
model; this script derives them from ``golden_images.api.image_json_schema()`` (the same model that validates
the values at ``Construct``) and ``golden_images.api.ImageArgs`` (the plain-data build keys and their
documentation). ``tests/plugin/test_schema.py`` fails when the committed file differs from a fresh run.

Usage: ``.venv/bin/python plugin/generate.py`` (writes the file; ``--check`` only compares, exit 1 on drift).
"""

import ast
import importlib
import inspect
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from golden_images import api
from golden_images.golden_image import PLATFORM_COMPONENTS

OUTPUT = Path(__file__).resolve().parent / "golden_images_plugin" / "catalog_types.py"
PLATFORMS = ("aws", "azure", "gcp", "proxmox")
#: Platform component class → the platform section it requires.
COMPONENTS = {
    "GoldenImage": None,
    "AwsGoldenImage": "aws",
    "AzureGoldenImage": "azure",
    "GcpGoldenImage": "gcp",
    "ProxmoxGoldenTemplate": "proxmox",
}
#: Keys the plain-data API requires although the catalog model has a default for them or does not know them.
REQUIRED_TOP = ("environment", "version", "description", "os", "provision")
STEP_MODELS = ("ShellStep", "ScriptStep", "FileStep", "PackagesStep")


def field_docstrings(cls: type) -> dict[str, str]:
    """Attribute docstrings of a class (the string literal right after each annotated field)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    docs: dict[str, str] = {}
    for node, after in zip(body, [*body[1:], None], strict=True):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def type_name(model: str) -> str:
    """``AwsSpec`` → ``AwsArgs``, ``AwsParent`` → ``AwsParentArgs``, a step model → ``StepArgs``."""
    if model in STEP_MODELS:
        return "StepArgs"
    return (model[: -len("Spec")] if model.endswith("Spec") else model) + "Args"


def annotation(prop: dict[str, Any]) -> str:
    """The Python annotation for one JSON-schema property (``None`` alternatives make it optional, not typed)."""
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        if len(options) != 1:
            raise SystemExit(f"unsupported union {prop}")
        return annotation(options[0])
    if "$ref" in prop:
        return type_name(prop["$ref"].rsplit("/", 1)[-1])
    if "oneOf" in prop:
        refs = {type_name(o["$ref"].rsplit("/", 1)[-1]) for o in prop["oneOf"]}
        if refs != {"StepArgs"}:
            raise SystemExit(f"unsupported oneOf {prop}")
        return "StepArgs"
    kind = prop.get("type")
    if kind == "array":
        return f"list[{annotation(prop['items'])}]"
    if kind == "object":
        return f"dict[str, {annotation(prop.get('additionalProperties', {'type': 'string'}))}]"
    simple = {"string": "str", "integer": "int", "boolean": "bool", "number": "float"}
    if kind in simple:
        return simple[kind]
    raise SystemExit(f"unsupported property {prop}")


def constraints(prop: dict[str, Any]) -> list[str]:
    """Human-readable constraints of a property (what the catalog model checks at ``Construct``)."""
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        return constraints(options[0])
    out: list[str] = []
    if "enum" in prop:
        out.append("One of " + ", ".join(f"``{v}``" for v in prop["enum"]) + ".")
    if "const" in prop:
        out.append(f"Always ``{prop['const']}``.")
    if "pattern" in prop:
        out.append(f"Pattern ``{prop['pattern']}``.")
    if "minimum" in prop or "maximum" in prop:
        out.append(f"Range {prop.get('minimum', '…')}..{prop.get('maximum', '…')}.")
    if "minLength" in prop:
        out.append("Not empty." if prop["minLength"] == 1 else f"At least {prop['minLength']} characters.")
    if "maxLength" in prop:
        out.append(f"At most {prop['maxLength']} characters.")
    if "minItems" in prop:
        out.append(f"At least {prop['minItems']} item{'s' * (prop['minItems'] != 1)}.")
    items = prop.get("items", {})
    if (
        prop.get("type") == "array"
        and isinstance(items, dict)
        and "$ref" not in items
        and "oneOf" not in items
    ):
        out.extend(f"Each item: {c[0].lower()}{c[1:]}" for c in constraints(items))
    return out


def describe(path: str, prop: dict[str, Any], required: bool, lead: str | None = None) -> str:
    parts = [lead or f"Catalog key ``{path}``."]
    parts.extend(constraints(prop))
    if required:
        parts.append("Required.")
    elif lead is not None:
        pass  # the lead (``ImageArgs``' own documentation) states the default
    elif "default" in prop and prop["default"] is not None:
        parts.append(f"Default: ``{json.dumps(prop['default'])}``.")
    elif "$ref" in prop:
        parts.append("Default: every key of it at its default.")
    elif prop.get("type") == "object":
        parts.append("Default: empty.")
    else:
        parts.append("Default: not set.")
    return " ".join(parts)


def docstring(text: str, indent: str) -> list[str]:
    """A one-line docstring (paragraphs joined), backslashes escaped. One line on purpose: the analyzer copies
    a docstring into the schema as is, so a wrapped one would put the code's indentation into every
    generated SDK's documentation."""
    text = " ".join(text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').split())
    return [f'{indent}"""{text}"""']


def render_class(name: str, doc: str, fields: list[tuple[str, str, bool, str]]) -> list[str]:
    """``fields``: (key, annotation, required, description)."""
    lines = [f"class {name}(TypedDict):", *docstring(doc, "    "), ""]
    for key, ann, required, description in fields:
        lines.append(f"    {key}: {ann if required else f'NotRequired[{ann}]'}")
        lines.extend(docstring(description, "    "))
    return [*lines, "", ""]


def refs_of(prop: dict[str, Any]) -> list[tuple[str, str]]:
    """(suffix, model) for every model a property refers to: ``""`` directly, ``"[]"`` through a list item,
    ``".<key>"`` through a map value."""
    if "$ref" in prop:
        return [("", prop["$ref"].rsplit("/", 1)[-1])]
    found: list[tuple[str, str]] = []
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        found += refs_of(option)
    if isinstance(prop.get("items"), dict):
        found += [("[]" + s, m) for s, m in refs_of(prop["items"])]
    if isinstance(prop.get("additionalProperties"), dict):
        found += [(".<key>" + s, m) for s, m in refs_of(prop["additionalProperties"])]
    return found


def model_paths(schema: dict[str, Any]) -> dict[str, str]:
    """Model name → the catalog key path it is first reached by from an image entry (``aws.parent``)."""
    paths: dict[str, str] = {}
    queue = [("", schema)]
    while queue:
        prefix, definition = queue.pop(0)
        for key, prop in definition.get("properties", {}).items():
            for suffix, model in refs_of(prop):
                if model not in paths:
                    paths[model] = f"{prefix}{key}{suffix}"
                    queue.append((paths[model] + ".", schema["$defs"][model]))
    return paths


def section_types(schema: dict[str, Any]) -> list[str]:
    defs: dict[str, Any] = schema["$defs"]
    paths = model_paths(schema)
    out: list[str] = []
    # Steps: the catalog's discriminated union becomes one object type with every step kind's keys.
    step_fields: dict[str, tuple[str, str, bool, str]] = {}
    for model in STEP_MODELS:
        definition = defs[model]
        kind = model[: -len("Step")].lower()
        for key, prop in definition["properties"].items():
            described = describe(f"provision[].{key}", prop, False)
            if key == "name":
                step_fields[key] = (key, annotation(prop), False, f"Step name (any kind). {described}")
                continue
            owner = f"``{kind}`` steps"
            if key in step_fields:
                prior = step_fields[key]
                step_fields[key] = (key, prior[1], False, prior[3] + f" Also for {owner}.")
                continue
            text = f"For {owner}. {definition.get('description', '')} " if key == kind else f"For {owner}. "
            step_fields[key] = (key, annotation(prop), False, text + described)
    out += render_class(
        "StepArgs",
        "One step of ``provision``, ``validate`` or ``tests``: exactly one of ``shell``, ``script``, ``file`` or "
        "``packages`` must be set (checked by the catalog model at Construct, not by the schema, which has no "
        "unions), plus that kind's own keys.",
        list(step_fields.values()),
    )
    # Dependencies first: annotations are evaluated when the class is created (no forward references).
    ordered: list[str] = []

    def visit(model: str) -> None:
        if model in ordered or model in STEP_MODELS:
            return
        for prop in defs[model]["properties"].values():
            for _, dependency in refs_of(prop):
                visit(dependency)
        ordered.append(model)

    for model in sorted(defs):
        visit(model)
    for model in ordered:
        definition = defs[model]
        prefix = paths[model]
        required = set(definition.get("required", ()))
        fields = [
            (key, annotation(prop), key in required, describe(f"{prefix}.{key}", prop, key in required))
            for key, prop in definition["properties"].items()
        ]
        out += render_class(type_name(model), definition.get("description", model), fields)
    return out


def component_args(schema: dict[str, Any]) -> list[str]:
    image_props: dict[str, Any] = schema["properties"]
    image_docs = field_docstrings(api.ImageArgs)
    build_types = {"environment": "str", "root": "str", "required_tags": "list[str]", "bake_on_up": "bool"}
    out: list[str] = []
    for component, platform in COMPONENTS.items():
        fields: list[tuple[str, str, bool, str]] = []
        for key, doc in image_docs.items():
            if key in PLATFORMS and platform is not None and key != platform:
                continue  # a platform component takes its own section only
            required = key in REQUIRED_TOP or key == platform
            prop = image_props.get(key, {})
            ann = build_types.get(key) or annotation(image_props[key])
            doc_text = (
                doc.replace(" Required.", "").replace("Required.", "").strip() or f"The image's ``{key}``."
            )
            if key == platform:
                doc_text = f"The ``{platform}`` section of the image (catalog key ``{platform}``)."
            fields.append((key, ann, required, describe(key, prop, required, lead=doc_text)))
        if platform == "proxmox":
            module_name, class_name = PLATFORM_COMPONENTS["proxmox"]
            module = importlib.import_module(module_name)
            extra = field_docstrings(getattr(module, f"{class_name}Args"))
            for key in ("endpoint", "api_token"):
                fields.append((key, "pulumi.Input[str]", False, extra[key]))
        doc = (
            "Inputs of ``GoldenImage``: one catalog image as plain data (``golden_images.api.ImageArgs``), "
            "validated by the catalog model. Every platform section that is set is baked."
            if platform is None
            else f"Inputs of ``{component}``: one catalog image as plain data with its ``{platform}`` section "
            f"(required; other platform sections are not accepted here), validated by the catalog model."
        )
        out += render_class(f"{component}Args", doc, fields)
    return out


def render() -> str:
    schema = api.image_json_schema()
    head = [
        '"""Input types of the golden-images provider: GENERATED by ``plugin/generate.py`` from the catalog model',
        "(``golden_images.api.image_json_schema()``) and ``golden_images.api.ImageArgs``. Do not edit; re-run it.",
        "",
        "No ``from __future__ import annotations`` here: Pulumi's component analyzer needs evaluated annotations.",
        "Values are plain (``plain: true`` in the schema) because they are validated by the catalog model before",
        "anything registers; only the Proxmox connection (``endpoint``, ``api_token``) accepts Outputs.",
        '"""',
        "",
        "# ruff: noqa: E501 (one-line docstrings: the schema's descriptions are copied from them verbatim)",
        "from typing import NotRequired, TypedDict",
        "",
        "import pulumi",
        "",
        "",
    ]
    body = section_types(schema) + component_args(schema)
    text = "\n".join(head + body).rstrip("\n") + "\n"
    return text


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date: run .venv/bin/python plugin/generate.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
