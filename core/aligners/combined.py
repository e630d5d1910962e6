"""`encoder+eflomal`: an embedding aligner's links combined with eflomal's.

The two make different errors: eflomal learns from the corpus (better with more parallel text,
weak on rare words and short corpora), SimAlign reads a pretrained encoder (no training, weak
where the encoder's languages are). Combination rules, over the encoder's links E, eflomal's
forward links F, reverse links R and symmetrised links S:

- `union`: E | S;
- `intersection`: E & S;
- `agree`: (F & R) | (E & (F | R)): eflomal's confident links, plus the encoder's links that
  at least one eflomal direction also found.

Measured (bench/encoder_alignment.py, bench/results/encoder_alignment.md) with multilingual
e5-small, SimAlign argmax at layer 6: `union` gave the lowest mean AER over en-fr, ro-en and
zh-en, `agree` the lowest on en-fr with FLORES as extra text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from core.aligners.base import ALIGNERS, Aligner, TokenPair
from core.aligners.eflomal_aligner import EflomalAligner
from core.aligners.simalign_aligner import Layer, MatchingMethod, SimAlignAligner
from core.data.types import Alignment

RULES = ("union", "intersection", "agree")
Rule = Literal[RULES]


def combine_links(rule: str, encoder: frozenset, forward, reverse, symmetrised) -> frozenset:  # noqa: ANN001
    """One pair's links under `rule` (see the module docstring)."""
    if rule == "union":
        return frozenset(encoder | symmetrised)
    if rule == "intersection":
        return frozenset(encoder & symmetrised)
    forward, reverse = set(forward), set(reverse)
    return frozenset((forward & reverse) | (encoder & (forward | reverse)))


@ALIGNERS.register("encoder+eflomal")
class EncoderEflomalAligner(Aligner):
    """SimAlign links over a pretrained encoder combined with eflomal's.

    Parameters: `model` (encoder: a packaged name such as e5-small, a local folder or a Hub id;
    default e5-small), `method` and `layer` (SimAlign's; defaults argmax, 6: chosen on en-fr for
    e5-small), `combine` (union, intersection or agree), `device`. eflomal runs with its
    defaults and trains on the pairs plus `extra`.
    """

    name = "encoder+eflomal"
    trains_on_corpus = True
    needs_encoder = True
    deterministic = False  # eflomal samples

    def __init__(
        self,
        model: str = "e5-small",
        method: MatchingMethod = "argmax",
        layer: Layer = 6,
        combine: Rule = "union",
        device: str = "cpu",
    ):
        self.encoder = SimAlignAligner(model=model, method=method, layer=layer, device=device)
        self.eflomal = EflomalAligner()
        self.combine = combine

    def settings(self) -> dict[str, object]:
        return {
            "encoder": {
                "model": self.encoder.model,
                "method": self.encoder.method,
                "layer": self.encoder.layer,
            },
            "eflomal": self.eflomal.settings(),
            "combine": self.combine,
        }

    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]:
        encoder = self.encoder.align(pairs, progress=progress)
        forward, reverse = self.eflomal.directional(pairs, extra)
        symmetrised = self.eflomal.combine(forward, reverse, pairs)
        return [
            Alignment(combine_links(self.combine, e.links, f, r, s.links))
            for e, f, r, s in zip(encoder, forward, reverse, symmetrised, strict=True)
        ]
