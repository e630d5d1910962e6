"""`hf`: any transformers seq2seq translation model, by Hub id or local folder.

Families: NLLB-200 (FLORES-200 codes such as yor_Latn, target chosen by the forced first token),
M2M100 (its own codes, same mechanism) and Marian (one direction per model; multi-target Marian
models take a `>>xxx<<` prefix). The family is read from the tokenizer; `family=` overrides it.
Batches come sorted by length from the base class; beam size, maximum length, device (CUDA when
present) and fp16 (on GPU by default) are parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from core.errors import ConfigError
from core.translate.base import TRANSLATORS, BatchSize, CacheSpec, Translator
from core.translate.langcodes import canonical, model_code

DEFAULT_MODEL = "facebook/nllb-200-distilled-600M"
FAMILIES = ("nllb", "m2m100", "marian")
Family = Literal[FAMILIES]


def _load(model: str):  # noqa: ANN202 - (tokenizer, model)
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from core.models import unloadable

    if not Path(model).is_dir() and (model.startswith((".", "/", "~")) or model.count("/") > 1):
        raise ConfigError(f"translation model folder {model!r} not found")
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
        network = AutoModelForSeq2SeqLM.from_pretrained(model)
    except OSError as exc:
        raise unloadable("translation model", model, exc) from None
    except ValueError as exc:  # malformed repo ids, unknown architectures
        raise ConfigError(f"cannot load translation model {model!r}: {exc}") from None
    return tokenizer, network


def detect_family(tokenizer, network) -> str:  # noqa: ANN001
    if getattr(network.config, "model_type", "") == "marian":
        return "marian"
    unk = tokenizer.unk_token_id
    if tokenizer.convert_tokens_to_ids("eng_Latn") not in (None, unk):
        return "nllb"
    if hasattr(tokenizer, "get_lang_id"):
        return "m2m100"
    raise ConfigError(
        f"cannot tell the family of {type(network).__name__} / {type(tokenizer).__name__}; "
        f"pass family= one of {', '.join(FAMILIES)}"
    )


@TRANSLATORS.register("hf")
class HFTranslator(Translator):
    name = "hf"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        family: Family | None = None,
        beam_size: Annotated[int, Field(ge=1, le=64)] = 4,
        max_length: Annotated[int, Field(ge=1, le=4096)] = 256,
        batch_size: BatchSize = 16,
        device: str | None = None,
        fp16: bool | None = None,
        cache: CacheSpec = True,
    ):
        super().__init__(batch_size=batch_size, cache=cache)
        import torch

        if family is not None and family not in FAMILIES:
            raise ConfigError(f"unknown model family {family!r}; known: {', '.join(FAMILIES)}")
        self.tokenizer, self.network = _load(str(model))
        self.family = family or detect_family(self.tokenizer, self.network)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # Half precision halves memory and time on a GPU; on a CPU it is slow or unsupported.
        self.fp16 = (self.device.startswith("cuda")) if fp16 is None else bool(fp16)
        if self.fp16:
            self.network.half()
        self.network.to(self.device).eval()
        self.beam_size = int(beam_size)
        self.max_length = int(max_length)
        folder = Path(str(model))
        self.model_id = str(folder.resolve()) if folder.is_dir() else str(model)
        vocab = self.tokenizer.get_vocab()
        self._known_codes = frozenset(
            t for t in vocab if self.family == "nllb" and len(t) == 8 and t[3] == "_"
        )

    def lang_code(self, lang: str) -> str:
        if self.family == "marian":
            return canonical(lang)  # the model fixes the pair; only a >>tgt<< prefix may apply
        return model_code(lang, self.family, self._known_codes)

    def check_pair(self, src: str, tgt: str) -> None:
        if self.family in ("nllb", "m2m100"):
            for code in (src, tgt):
                if self._lang_token_id(code) is None:
                    raise ConfigError(f"model {self.model_id} has no language token for {code!r}")

    def _lang_token_id(self, code: str) -> int | None:
        if self.family == "m2m100":
            try:
                return int(self.tokenizer.get_lang_id(code))
            except (KeyError, AttributeError):
                return None
        token_id = self.tokenizer.convert_tokens_to_ids(code)
        return None if token_id in (None, self.tokenizer.unk_token_id) else int(token_id)

    def _marian_prefix(self, tgt: str) -> str:
        vocab = self.tokenizer.get_vocab()
        for code in (tgt, *[k for k, v in _ISO3.items() if v == tgt]):
            if f">>{code}<<" in vocab:
                return f">>{code}<< "
        return ""

    def _translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        import torch

        generate_args: dict = {}
        if self.family in ("nllb", "m2m100"):
            self.tokenizer.src_lang = src
            generate_args["forced_bos_token_id"] = self._lang_token_id(tgt)
        else:
            prefix = self._marian_prefix(tgt)
            texts = [prefix + t for t in texts]
        encoded = self.tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_length
        )
        encoded = {k: v.to(self.device) for k, v in encoded.items()}
        with torch.inference_mode():
            output = self.network.generate(
                **encoded,
                num_beams=self.beam_size,
                max_new_tokens=self.max_length,
                **generate_args,
            )
        return self.tokenizer.batch_decode(output, skip_special_tokens=True)


# Marian multi-target models name targets with ISO 639-3 codes: canonical key -> 639-3.
_ISO3 = {"por": "pt", "deu": "de", "spa": "es", "fra": "fr", "ita": "it", "nld": "nl"}
