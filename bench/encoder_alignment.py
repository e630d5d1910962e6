"""Word alignment with a pretrained encoder (SimAlign, awesome-align extraction) and its
combination with eflomal: AER on the gold sets, optionally Europarl-NER projection F1.

    nice -n 10 python bench/encoder_alignment.py [--model e5-small] [--layers 4 6 8 10 12]
        [--choose-on enfr] [--europarl] [--output bench/results/encoder_alignment.md]

Each gold set is encoded once (every hidden state kept); SimAlign (argmax, itermax; sub-word
level, cosine similarity, as the simalign package) and awesome-align's softmax extraction
(threshold 0.001) are computed for every layer in --layers. The layer of each extraction is
chosen on one gold set (--choose-on) and reported on all. eflomal (the project's defaults, with
FLORES fr as extra text for en-fr as in README) gives forward and reverse links, and the
combinations are
  union / intersection   of the encoder's links with eflomal's symmetrised links;
  agree                  eflomal's intersection + the encoder links found by either direction;
  mix w                  score mixing: w * encoder probability + (1 - w) * eflomal vote
                         (1 if both directions link, 0.5 if one), link when >= 0.5.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.alignment import machine  # noqa: E402
from core.aligners import get_aligner  # noqa: E402
from core.aligners.combined import RULES, combine_links  # noqa: E402
from core.aligners.evaluation import alignment_scores, find_gold_sets  # noqa: E402
from core.cli.options import read_extra_parallel  # noqa: E402
from core.models import resolve_model  # noqa: E402

Links = frozenset[tuple[int, int]]
THRESHOLD = 0.001  # awesome-align's default softmax threshold


def encode(sentences: Sequence[Sequence[str]], tokenizer, model, batch: int = 32):  # noqa: ANN001
    """Per sentence: hidden states [layers+1, subwords, H] of the real sub-words, their words."""
    import torch

    order = sorted(range(len(sentences)), key=lambda k: len(sentences[k]))
    out: list = [None] * len(sentences)
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        enc = tokenizer(
            [list(sentences[k]) for k in rows],
            is_split_into_words=True,
            truncation=True,
            max_length=512,
            padding=True,
            return_tensors="pt",
        )
        with torch.no_grad():
            states = torch.stack(model(**enc, output_hidden_states=True).hidden_states, 1)
        for r, k in enumerate(rows):
            words = enc.word_ids(r)
            keep = [p for p, w in enumerate(words) if w is not None]
            out[k] = (states[r, :, keep].numpy(), np.array([words[p] for p in keep]))
    return out


def _to_words(mask: np.ndarray, src_w: np.ndarray, tgt_w: np.ndarray) -> Links:
    i, j = np.nonzero(mask)
    return frozenset(zip(src_w[i].tolist(), tgt_w[j].tolist()))


def extract(src, tgt, layer: int) -> dict[str, object]:  # noqa: ANN001
    """SimAlign argmax/itermax and awesome-align softmax links, plus word-level probabilities."""
    from simalign import SentenceAligner

    (s_states, s_w), (t_states, t_w) = src, tgt
    x, y = s_states[layer], t_states[layer]
    if not len(x) or not len(y):
        return {"argmax": frozenset(), "itermax": frozenset(), "softmax": frozenset(), "prob": {}}
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    sim = (xn @ yn.T + 1.0) / 2.0
    fwd, rev = SentenceAligner.get_alignment_matrix(sim)
    itermax = SentenceAligner.iter_max(sim)
    dot = x @ y.T
    f = np.exp(dot - dot.max(1, keepdims=True))
    f /= f.sum(1, keepdims=True)
    r = np.exp(dot - dot.max(0, keepdims=True))
    r /= r.sum(0, keepdims=True)
    # awesome-align's --output_prob: length-tempered softmaxes, harmonic mean, best sub-word pair.
    ft = np.exp((dot - dot.max(1, keepdims=True)) / len(y) ** 0.5)
    ft /= ft.sum(1, keepdims=True)
    rt = np.exp((dot - dot.max(0, keepdims=True)) / len(x) ** 0.5)
    rt /= rt.sum(0, keepdims=True)
    harmonic = 2 * ft * rt / (ft + rt + 1e-9)
    prob: dict[tuple[int, int], float] = {}
    for i, j in zip(*np.nonzero(harmonic > 0.0)):
        link = (int(s_w[i]), int(t_w[j]))
        prob[link] = max(prob.get(link, 0.0), float(harmonic[i, j]))
    return {
        "argmax": _to_words(fwd * rev > 0, s_w, t_w),
        "itermax": _to_words(itermax > 0, s_w, t_w),
        "softmax": _to_words((f > THRESHOLD) & (r > THRESHOLD), s_w, t_w),
        "prob": prob,
    }


def aer(predicted: Sequence[Links], gold) -> float:  # noqa: ANN001
    return alignment_scores(list(predicted), gold).aer


def combinations(encoder: Sequence[Links], probs, forward, reverse, symmetrised):  # noqa: ANN001
    out: dict[str, list[Links]] = {
        rule: [
            combine_links(rule, e, f, r, s)
            for e, f, r, s in zip(encoder, forward, reverse, symmetrised)
        ]
        for rule in RULES
    }
    for w in (0.3, 0.5, 0.7):
        mixed = []
        for prob, f, r in zip(probs, forward, reverse):
            f, r = set(f), set(r)
            candidates = set(prob) | f | r
            mixed.append(
                frozenset(
                    link
                    for link in candidates
                    if w * prob.get(link, 0.0) + (1 - w) * ((link in f) + (link in r)) / 2 >= 0.5
                )
            )
        out[f"mix {w}"] = mixed
    return out


def europarl(args: argparse.Namespace, tokenizer, model, best_layer: dict) -> list[str]:  # noqa: ANN001
    """Projection F1 of gold English entities to de/es (Europarl-NER) with each aligner."""
    from core.data.formats import read_conll
    from core.data.types import Alignment, Sentence
    from core.evaluate import ner_scores
    from core.pipelines.steps import make_pairs, project_pairs
    from core.projection import get_projector

    folder, flores = args.data / "europarl_ner", args.data / "flores200"
    source = read_conll(folder / "en.test.conll02")
    source_states = encode([s.tokens for s in source], tokenizer, model)
    methods = ("heuristic", "candidates-greedy")
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for lang, flores_lang in (("de", "deu"), ("es", "spa")):
        target = read_conll(folder / f"{lang}.test.conll02")
        token_pairs = [(s.tokens, t.tokens) for s, t in zip(source, target)]
        extra = read_extra_parallel(
            [
                (flores / s / f"eng.{s}", flores / s / f"{flores_lang}.{s}")
                for s in ("dev", "devtest")
            ],
            "en",
            lang,
        )
        eflomal = get_aligner("eflomal")
        forward, reverse = eflomal.directional(token_pairs, extra)
        symmetrised = [a.links for a in eflomal.combine(forward, reverse, token_pairs)]
        target_states = encode([t.tokens for t in target], tokenizer, model)
        aligners = {"eflomal (defaults)": symmetrised}
        for method in ("argmax", "itermax"):
            layer = best_layer[method]
            links = [extract(s, t, layer)[method] for s, t in zip(source_states, target_states)]
            aligners[f"{method} L{layer}"] = links
            for rule in RULES:
                aligners[f"{method} L{layer} {rule} eflomal"] = [
                    combine_links(rule, e, f, r, y)
                    for e, f, r, y in zip(links, forward, reverse, symmetrised)
                ]
        gold = [t.tags or ["O"] * len(t) for t in target]
        for name, alignments in aligners.items():
            pairs = make_pairs(source, [Sentence(t.tokens, None, t.id, lang) for t in target])
            for pair, links in zip(pairs, alignments):
                pair.alignment = Alignment(frozenset(links))
            for method in methods:
                projections = project_pairs(pairs, get_projector(method))
                f1 = ner_scores(gold, [p.target_tags() for p in projections])["f1"]
                rows.setdefault((name, method), {})[lang] = f1
    out = [
        "",
        "## Europarl-NER projection F1 (gold English entities -> de/es; eflomal with FLORES)",
        "",
        "| aligner | projection | de | es | avg |",
        "|---|---|---:|---:|---:|",
    ]
    for (name, method), cells in rows.items():
        avg = (cells["de"] + cells["es"]) / 2
        out.append(f"| {name} | {method} | {cells['de']:.3f} | {cells['es']:.3f} | {avg:.3f} |")
    return out


def gold_tables(args: argparse.Namespace, tokenizer, model) -> tuple[list[str], dict]:  # noqa: ANN001
    """AER by layer on every gold set, the layer chosen per extraction, the combinations."""
    flores = args.data / "flores200"
    lines: list[str] = []
    sets = find_gold_sets(args.data / "word_alignment_gold")
    encoded, eflomal_runs = {}, {}
    for gold_set in sets:
        started = time.perf_counter()
        src = encode([s for s, _ in gold_set.pairs], tokenizer, model)
        tgt = encode([t for _, t in gold_set.pairs], tokenizer, model)
        seconds = time.perf_counter() - started
        n_sub = sum(len(w) for _, w in src + tgt)
        print(f"{gold_set.name}: encoded {len(src)} pairs, {n_sub / seconds:,.0f} sub-words/s")
        encoded[gold_set.name] = (src, tgt)
        variants = [(gold_set.name, [])]
        if gold_set.name == "enfr" and (flores / "dev" / "fra.dev").exists():
            extra = read_extra_parallel(
                [(flores / s / f"eng.{s}", flores / s / f"fra.{s}") for s in ("dev", "devtest")],
                "en",
                "fr",
            )
            variants.append(("enfr+flores", extra))
        for label, extra in variants:
            eflomal = get_aligner("eflomal")
            forward, reverse = eflomal.directional(gold_set.pairs, extra)
            symmetrised = [a.links for a in eflomal.combine(forward, reverse, gold_set.pairs)]
            eflomal_runs[label] = (gold_set, forward, reverse, symmetrised)

    # Layer sweep: every extraction at every layer, on every set.
    per_layer: dict[tuple[str, int], dict] = {}
    table: dict[tuple[str, str, int], float] = {}
    for gold_set in sets:
        src, tgt = encoded[gold_set.name]
        for layer in args.layers:
            results = [extract(s, t, layer) for s, t in zip(src, tgt)]
            per_layer[(gold_set.name, layer)] = results
            for method in ("argmax", "itermax", "softmax"):
                table[(method, gold_set.name, layer)] = aer(
                    [r[method] for r in results], gold_set.gold
                )
    names = [s.name for s in sets]
    lines += [
        f"## AER by layer ({args.model}; lower is better)",
        "",
        "| extraction | layer | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    best_layer = {}
    for method in ("argmax", "itermax", "softmax"):
        for layer in args.layers:
            cells = " | ".join(f"{table[(method, n, layer)]:.3f}" for n in names)
            lines.append(f"| {method} | {layer} | {cells} |")
        best_layer[method] = min(args.layers, key=lambda k: table[(method, args.choose_on, k)])
    lines += [
        "",
        f"Layer chosen on {args.choose_on}: "
        + ", ".join(f"{m} {k}" for m, k in best_layer.items()),
        "",
    ]

    # Combinations with eflomal, each extraction at its chosen layer.
    labels = list(eflomal_runs)
    rows: dict[str, dict[str, float]] = {}
    for label, (gold_set, forward, reverse, symmetrised) in eflomal_runs.items():
        rows.setdefault("eflomal (defaults)", {})[label] = aer(symmetrised, gold_set.gold)
        for method, layer in best_layer.items():
            results = per_layer[(gold_set.name, layer)]
            encoder_links = [r[method] for r in results]
            rows.setdefault(f"{method} L{layer}", {})[label] = aer(encoder_links, gold_set.gold)
            probs = [r["prob"] for r in per_layer[(gold_set.name, best_layer["softmax"])]]
            combos = combinations(encoder_links, probs, forward, reverse, symmetrised)
            for name, links in combos.items():
                if name.startswith("mix") and method != "softmax":
                    continue  # the mix uses awesome-align's probabilities, whatever the links
                key = name if name.startswith("mix") else f"{method} L{layer} {name} eflomal"
                rows.setdefault(key, {})[label] = aer(links, gold_set.gold)
    lines += [
        "## AER: encoder, eflomal and combinations",
        "",
        "| aligner | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for name, cells in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{cells[k]:.3f}" for k in labels) + " |")
    base = rows["eflomal (defaults)"]
    best = min(
        (n for n in rows if n != "eflomal (defaults)"),
        key=lambda n: statistics.mean(rows[n][k] for k in labels),
    )
    wins = [k for k in labels if rows[best][k] < base[k]]
    lines += [
        "",
        f"Best other aligner by mean AER: **{best}** "
        f"({statistics.mean(rows[best][k] for k in labels):.3f} vs eflomal "
        f"{statistics.mean(base.values()):.3f}); below eflomal on: {', '.join(wins) or 'none'}.",
    ]
    return lines, best_layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="e5-small", help="encoder: packaged name or folder")
    parser.add_argument("--layers", type=int, nargs="+", default=[4, 6, 8, 10, 12])
    parser.add_argument("--choose-on", default="enfr", help="gold set that picks the layer")
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("XNER_DATA", ROOT.parent / "shared/data"))
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--europarl", action="store_true", help="also Europarl-NER projection F1")
    parser.add_argument(
        "--europarl-only",
        action="store_true",
        help="only Europarl-NER, with the layers given by --argmax-layer / --itermax-layer",
    )
    parser.add_argument("--argmax-layer", type=int, default=6, help="with --europarl-only")
    parser.add_argument("--itermax-layer", type=int, default=8, help="with --europarl-only")
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    args = parser.parse_args()

    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(args.threads)
    folder = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    lines = [f"machine: {machine()}", f"encoder: {args.model} ({folder})", ""]

    if args.europarl_only:
        best_layer = {"argmax": args.argmax_layer, "itermax": args.itermax_layer}
    else:
        table_lines, best_layer = gold_tables(args, tokenizer, model)
        lines += table_lines
    if args.europarl or args.europarl_only:
        lines += europarl(args, tokenizer, model, best_layer)
    report = "\n".join(lines)
    print(report)
    if args.output:
        from core.data.formats import atomic_write

        with atomic_write(args.output) as handle:
            handle.write(report + "\n")


if __name__ == "__main__":
    main()
