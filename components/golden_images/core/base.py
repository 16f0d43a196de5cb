"""Base model and annotated scalar types shared by every catalog section."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationInfo
from pydantic_core import PydanticCustomError

from golden_images.core import repofiles, rules


class CatalogModel(BaseModel):
    """Strict, immutable, closed: unknown keys are errors, values are never coerced (``1.0`` is not
    ``"1.0"``), and a validated catalog cannot change under the program's feet."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


def _semver(value: str) -> str:
    if not rules.is_semver(value):
        raise ValueError(
            f"{value!r} is not a semantic version; write MAJOR.MINOR.PATCH such as '1.4.2' "
            "(no 'v' prefix, no suffix, quoted so YAML keeps it a string)"
        )
    return value


def _image_name(value: str) -> str:
    if not rules.is_catalog_image_name(value):
        raise ValueError(
            f"{value!r} is not a valid image name; use 3-40 lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen (it is embedded in AWS, Azure, GCP and "
            "Proxmox names)"
        )
    return value


def _repo_file(value: str, info: ValidationInfo) -> str:
    """A path relative to the project root; with a root from the loader, a regular file inside it after
    resolving symlinks (:func:`golden_images.core.repofiles.resolve`)."""
    if Path(value).is_absolute() or ".." in Path(value).parts:
        raise ValueError(f"{value!r} must be a path inside the repository, relative to the project root")
    root = context_root(info)
    if root is not None:
        try:
            repofiles.resolve(root, value)
        except repofiles.RepoFileError as exc:
            raise ValueError(str(exc)) from None
    return value


def context_root(info: ValidationInfo) -> Path | None:
    """The project root the loader passed as validation context, if any."""
    ctx: Any = info.context
    if isinstance(ctx, dict) and isinstance(ctx.get("root"), Path):
        return ctx["root"]
    return None


def context_value(info: ValidationInfo, key: str) -> Any:
    """Another value from the loader's validation context (``environment``, ``pins``), or ``None``."""
    ctx: Any = info.context
    return ctx.get(key) if isinstance(ctx, dict) else None


NonEmptyStr = Annotated[str, StringConstraints(min_length=1, strip_whitespace=False)]
SemVer = Annotated[str, AfterValidator(_semver)]
ImageName = Annotated[str, AfterValidator(_image_name)]
RepoFile = Annotated[str, AfterValidator(_repo_file)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def require_exactly_one(model: BaseModel, fields: Sequence[str], error_type: str, message: str) -> None:
    """Raise ``PydanticCustomError(error_type, message)`` unless exactly one of ``fields`` is set on ``model``;
    ``{given}`` in ``message`` becomes the fields that are set (``none`` when none is)."""
    given = [name for name in fields if getattr(model, name) is not None]
    if len(given) != 1:
        raise PydanticCustomError(error_type, message, {"given": ", ".join(given) or "none"})
