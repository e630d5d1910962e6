"""Language codes per translation model family.

xner speaks ISO 639-1 (`pt`) or ISO 639-3 / MasakhaNER folder names (`yor`, `swa`); NLLB-200 wants
FLORES-200 codes (`yor_Latn`) and M2M100 its own two/three-letter codes. The tables cover every
MasakhaNER 2.0 language and every XTREME NER (PAN-X) language; where a model has no code for a
language (NLLB has no Ghomala or Nigerian Pidgin, M2M100 no Ewe, Fon, ...), lookup raises a
ConfigError naming the language, rather than silently translating from the wrong language.
"""

from __future__ import annotations

from core.errors import ConfigError

# Every language the tables know, by a canonical key (ISO 639-3 where MasakhaNER uses it).
LANGUAGE_NAMES: dict[str, str] = {
    # MasakhaNER 2.0
    "bam": "Bambara",
    "bbj": "Ghomala",
    "ewe": "Ewe",
    "fon": "Fon",
    "hau": "Hausa",
    "ibo": "Igbo",
    "kin": "Kinyarwanda",
    "lug": "Luganda",
    "luo": "Dholuo",
    "mos": "Mossi",
    "nya": "Chichewa",
    "pcm": "Nigerian Pidgin",
    "sna": "chiShona",
    "swa": "Swahili",
    "tsn": "Setswana",
    "twi": "Twi",
    "wol": "Wolof",
    "xho": "isiXhosa",
    "yor": "Yoruba",
    "zul": "isiZulu",
    # XTREME NER (PAN-X), 40 languages
    "af": "Afrikaans",
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "jv": "Javanese",
    "ka": "Georgian",
    "kk": "Kazakh",
    "ko": "Korean",
    "ml": "Malayalam",
    "mr": "Marathi",
    "ms": "Malay",
    "my": "Burmese",
    "nl": "Dutch",
    "pt": "Portuguese",
    "ru": "Russian",
    "sw": "Swahili",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "yo": "Yoruba",
    "zh": "Chinese",
}

MASAKHANER2 = (
    "bam bbj ewe fon hau ibo kin lug luo mos nya pcm sna swa tsn twi wol xho yor zul".split()
)
XTREME_NER = (
    "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru "
    "sw ta te th tl tr ur vi yo zh"
).split()

# Other spellings of the same language -> the canonical key above.
ALIASES: dict[str, str] = {
    "eng": "en",
    "por": "pt",
    "deu": "de",
    "ger": "de",
    "spa": "es",
    "fra": "fr",
    "fre": "fr",
    "ita": "it",
    "nld": "nl",
    "rus": "ru",
    "zho": "zh",
    "jpn": "ja",
    "kor": "ko",
    "ara": "ar",
    "afr": "af",
    "bul": "bg",
    "ben": "bn",
    "ell": "el",
    "est": "et",
    "eus": "eu",
    "fas": "fa",
    "pes": "fa",
    "fin": "fi",
    "heb": "he",
    "hin": "hi",
    "hun": "hu",
    "ind": "id",
    "jav": "jv",
    "kat": "ka",
    "kaz": "kk",
    "mal": "ml",
    "mar": "mr",
    "msa": "ms",
    "zsm": "ms",
    "mya": "my",
    "swh": "swa",
    "sw": "swa",
    "tam": "ta",
    "tel": "te",
    "tha": "th",
    "tgl": "tl",
    "tur": "tr",
    "urd": "ur",
    "vie": "vi",
    "yo": "yor",
    "ha": "hau",
    "ig": "ibo",
    "rw": "kin",
    "lg": "lug",
    "ny": "nya",
    "sn": "sna",
    "tn": "tsn",
    "tw": "twi",
    "wo": "wol",
    "xh": "xho",
    "zu": "zul",
    "ee": "ewe",
    "bm": "bam",
}

NLLB: dict[str, str] = {
    "bam": "bam_Latn",
    "ewe": "ewe_Latn",
    "fon": "fon_Latn",
    "hau": "hau_Latn",
    "ibo": "ibo_Latn",
    "kin": "kin_Latn",
    "lug": "lug_Latn",
    "luo": "luo_Latn",
    "mos": "mos_Latn",
    "nya": "nya_Latn",
    "sna": "sna_Latn",
    "swa": "swh_Latn",
    "tsn": "tsn_Latn",
    "twi": "twi_Latn",
    "wol": "wol_Latn",
    "xho": "xho_Latn",
    "yor": "yor_Latn",
    "zul": "zul_Latn",
    "af": "afr_Latn",
    "ar": "arb_Arab",
    "bg": "bul_Cyrl",
    "bn": "ben_Beng",
    "de": "deu_Latn",
    "el": "ell_Grek",
    "en": "eng_Latn",
    "es": "spa_Latn",
    "et": "est_Latn",
    "eu": "eus_Latn",
    "fa": "pes_Arab",
    "fi": "fin_Latn",
    "fr": "fra_Latn",
    "he": "heb_Hebr",
    "hi": "hin_Deva",
    "hu": "hun_Latn",
    "id": "ind_Latn",
    "it": "ita_Latn",
    "ja": "jpn_Jpan",
    "jv": "jav_Latn",
    "ka": "kat_Geor",
    "kk": "kaz_Cyrl",
    "ko": "kor_Hang",
    "ml": "mal_Mlym",
    "mr": "mar_Deva",
    "ms": "zsm_Latn",
    "my": "mya_Mymr",
    "nl": "nld_Latn",
    "pt": "por_Latn",
    "ru": "rus_Cyrl",
    "ta": "tam_Taml",
    "te": "tel_Telu",
    "th": "tha_Thai",
    "tl": "tgl_Latn",
    "tr": "tur_Latn",
    "ur": "urd_Arab",
    "vi": "vie_Latn",
    "zh": "zho_Hans",
}

M2M100: dict[str, str] = {
    "hau": "ha",
    "ibo": "ig",
    "lug": "lg",
    "swa": "sw",
    "tsn": "tn",
    "wol": "wo",
    "xho": "xh",
    "yor": "yo",
    "zul": "zu",
    # every XTREME NER language but Basque and Telugu
    **{c: c for c in XTREME_NER if c not in ("eu", "te", "sw", "yo")},
}

TABLES: dict[str, dict[str, str]] = {"nllb": NLLB, "m2m100": M2M100}


def canonical(lang: str) -> str:
    """The tables' key for a code such as `pt`, `por`, `yo`, `swh` (lower-cased, region dropped)."""
    code = lang.strip().lower().replace("-", "_").split("_")[0]
    return ALIASES.get(code, code)


def model_code(lang: str, family: str, known_codes: set[str] | frozenset[str] = frozenset()) -> str:
    """The code `family` uses for `lang`; a code the model itself knows passes through as is
    (e.g. `yor_Latn` for NLLB), so users can name languages the table does not list."""
    if lang in known_codes:
        return lang
    if family not in TABLES:
        raise ConfigError(f"no language-code table for model family {family!r}")
    key = canonical(lang)
    code = TABLES[family].get(key)
    if code is None:
        name = LANGUAGE_NAMES.get(key)
        what = f"{lang!r} ({name})" if name else repr(lang)
        raise ConfigError(
            f"language {what} has no {family} code: the model does not cover it, or the code "
            f"is unknown. Pass the model's own code (e.g. yor_Latn for NLLB) if it has one."
        )
    return code
