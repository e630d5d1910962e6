"""Speed of the `embedded` tagger on the CPU: training and inference tokens/s.

    python bench/tagger.py [--runs 3] [--sentences 2000] [--threads 2] [--param KEY=VALUE]...
                           [--data ../shared/data] [--lang yor]

Trains one epoch on the first --sentences sentences of MasakhaNER <lang> train (gold labels: the
speed does not depend on where the labels come from) --runs times and tags MasakhaNER <lang>
test; prints the medians, the machine (CPU, cores, load) and the projected time of one flagship
run (10 epochs over 300k tokens of projected data, the size of MAFAND en-yor).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.cli.options import parse_params  # noqa: E402
from core.data.formats import read_conll  # noqa: E402
from core.taggers import get_tagger  # noqa: E402

FLAGSHIP_TOKENS = 300_000  # MAFAND en-yor target side (all splits), tokenised
FLAGSHIP_EPOCHS = 10


def machine() -> str:
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.platform()}; {cpu}; {os.cpu_count()} CPUs; load {load}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lang", default="yor")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--param", action="append", metavar="KEY=VALUE")
    args = parser.parse_args()
    import torch

    folder = Path(args.data) / "masakhaner2" / args.lang
    train = read_conll(folder / "train.txt")[: args.sentences]
    test = read_conll(folder / "test.txt")
    train_tokens = sum(len(s) for s in train)
    test_tokens = sum(len(s) for s in test)
    params = {"threads": args.threads, "device": "cpu", **parse_params(args.param)}
    print(f"machine: {machine()}; torch {torch.__version__}, {args.threads} threads")
    print(
        f"data: {len(train)} train sentences ({train_tokens} tokens), {len(test)} test "
        f"sentences ({test_tokens} tokens); params {params}"
    )
    train_tps, infer_tps = [], []
    for run in range(args.runs):
        tagger = get_tagger("embedded", **params)
        started = time.perf_counter()
        tagger.fit(train, epochs=1, seed=run)
        train_tps.append(train_tokens / (time.perf_counter() - started))
        started = time.perf_counter()
        tagger.predict([s.tokens for s in test])
        infer_tps.append(test_tokens / (time.perf_counter() - started))
        print(
            f"run {run + 1}: train {train_tps[-1]:,.0f} tokens/s, "
            f"inference {infer_tps[-1]:,.0f} tokens/s",
            flush=True,
        )
    train_median, infer_median = statistics.median(train_tps), statistics.median(infer_tps)
    minutes = FLAGSHIP_EPOCHS * FLAGSHIP_TOKENS / train_median / 60
    print(f"median training {train_median:,.0f} tokens/s, inference {infer_median:,.0f} tokens/s")
    print(
        f"one direct flagship run ({FLAGSHIP_EPOCHS} epochs x {FLAGSHIP_TOKENS:,} tokens): "
        f"~{minutes:.1f} min (target <= 10)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
