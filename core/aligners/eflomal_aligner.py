"""`eflomal`: Bayesian IBM1/HMM/fertility word alignment (Östling & Tiedemann 2016).

Corpus-level: one run trains on `pairs + extra` and aligns them all in both directions; the two
directional link sets are symmetrised (core.aligners.symmetrize) and only the alignments of
`pairs` are returned. Uses the eflomal package's Cython readers/writers and runs its bundled
binary, one process per direction at once by default; all temporary files are removed.
"""

from __future__ import annotations

import inspect
import logging
import math
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from tqdm import tqdm

from core.aligners.base import ALIGNERS, Aligner, TokenPair
from core.aligners.orthographic import identical_links
from core.aligners.symmetrize import Symmetrization, get_symmetrizer
from core.data.types import Alignment, Link
from core.errors import ConfigError

log = logging.getLogger(__name__)

# eflomal writes a sentence of 0x400 tokens or more as an empty one (and stores positions as
# 16-bit numbers), so longer sentences are truncated to this many tokens before alignment.
MAX_LENGTH = 0x400 - 1

MODELS = {1: "IBM1", 2: "HMM", 3: "HMM+fertility"}

# Upper bounds of the run-time parameters: far above any useful setting (eflomal's own defaults
# are 3 samplers, and its schedule never exceeds 5,000 iterations), low enough that a typo
# cannot keep a run busy for hours.
MAX_SAMPLERS = 64
MAX_RUNS = 16
MAX_ITERATIONS = 5000
MAX_REL_ITERATIONS = 10.0
Iterations = Annotated[int, Field(ge=1, le=MAX_ITERATIONS)]
ModelIterations = Annotated[int, Field(ge=0, le=MAX_ITERATIONS)]
WordPart = Annotated[int, Field(ge=0)]

# Defaults measured on Europarl-NER projection (en->de/es, 799 pairs + 2,009 FLORES pairs) and
# the gold AER sets, and on speed over MAFAND en-yor (bench/alignment.py --aer --europarl, and
# --compare for several fresh alignments per setting): half of eflomal's iteration schedule is
# ~3x faster than eflomal's defaults (1.0, 3 samplers) and no less accurate, and one sampler
# projects as well as 2, 4 or 6 (within the run-to-run spread) at half the CPU time of 2;
# 5-character prefixes as words (a crude stemmer) lower AER and raise projection F1 on small
# corpora; intersection links with identical-word links project best.
DEFAULT_PREFIX_LEN = 5

# Constructor parameters that change how a run is executed or reported, never its alignments.
EXECUTION_ONLY = frozenset({"quiet", "concurrent_directions"})

# Link scores for the candidate projection: agreement of both directions is stronger evidence.
BOTH_DIRECTIONS_SCORE = 1.0
ONE_DIRECTION_SCORE = 0.5


@dataclass
class EflomalStats:
    """What happened to the input of the last run (for reports and tests)."""

    sentences: int = 0
    training_sentences: int = 0
    truncated: int = 0
    empty: int = 0
    iterations: tuple[int, int, int] = (0, 0, 0)


def default_iterations(n_sentences: int, model: int, rel_iterations: float) -> tuple[int, int, int]:
    """eflomal's own schedule (iterations shrink with corpus size), scaled by rel_iterations."""
    iters = max(2, int(round(rel_iterations * 5000 / math.sqrt(max(1, n_sentences)))))
    iters4 = max(1, iters // 4)
    if model == 1:
        return (iters, 0, 0)
    if model == 2:
        return (max(2, iters4), iters, 0)
    return (max(2, iters4), iters4, iters)


def _eflomal_version() -> str:
    try:
        return metadata.version("eflomal")
    except metadata.PackageNotFoundError:
        return "unknown"


def _clean(token: str) -> str:
    # eflomal splits lines on whitespace: a token must be one non-empty run of non-space text.
    return "".join(token.split()) or "_"


@ALIGNERS.register("eflomal")
class EflomalAligner(Aligner):
    """eflomal with symmetrisation.

    Parameters: `symmetrization` (see core.aligners.symmetrize), `model` (1 IBM1, 2 HMM, 3 HMM +
    fertility), `n_iterations` (one number for the last model's sampling iterations, the earlier
    models get a quarter, or a 3-tuple; default: eflomal's schedule times `rel_iterations`),
    `rel_iterations` (scales eflomal's schedule; default 0.5), `n_samplers` (independent
    samplers whose link marginals eflomal averages), `n_runs` (independent eflomal runs on the
    same input; a directional link is kept when a strict majority of the runs found it),
    `null_prior`, `source/target_prefix_len` (keep only the first N
    characters of each word: a cheap stemmer that helps small corpora; default 5, 0 = whole
    words) or `source/target_suffix_len` (keep the last N; then the prefix default is off),
    `lowercase`, `identical_links` (also link
    case-insensitively identical words, e.g. names, with at least 2 characters), `link_scores`
    (1.0 for links found in both directions, 0.5 for the others), `max_length` (longer sentences
    are truncated, counted in `stats.truncated`), `concurrent_directions` (run the forward and
    the reverse model as two eflomal processes at once instead of one after the other in one
    process: the same models, about half the wall time on two free cores; it changes how the
    work is scheduled, not the result, so it is not part of `settings()`).
    """

    name = "eflomal"
    trains_on_corpus = True
    deterministic = False  # the binary seeds itself from /dev/urandom and takes no seed

    def __init__(
        self,
        symmetrization: Symmetrization = "intersection",
        model: Literal[1, 2, 3] = 3,
        n_iterations: Iterations
        | tuple[ModelIterations, ModelIterations, ModelIterations]
        | None = None,
        rel_iterations: Annotated[float, Field(gt=0, le=MAX_REL_ITERATIONS)] = 0.5,
        n_samplers: Annotated[int, Field(ge=1, le=MAX_SAMPLERS)] = 1,
        n_runs: Annotated[int, Field(ge=1, le=MAX_RUNS)] = 1,
        null_prior: Annotated[float, Field(ge=0, le=1)] = 0.2,
        source_prefix_len: WordPart | None = None,
        source_suffix_len: WordPart = 0,
        target_prefix_len: WordPart | None = None,
        target_suffix_len: WordPart = 0,
        lowercase: bool = True,
        identical_links: bool = True,
        link_scores: bool = True,
        max_length: Annotated[int, Field(ge=1, le=MAX_LENGTH)] = MAX_LENGTH,
        concurrent_directions: bool = True,
        quiet: bool = True,
    ):
        self.symmetrization = symmetrization
        self._symmetrize = get_symmetrizer(symmetrization)
        if model not in MODELS:
            raise ConfigError(
                f"eflomal model must be 1 (IBM1), 2 (HMM) or 3 (fertility), not {model!r}"
            )
        self.model = int(model)
        self.n_iterations = self._iterations(n_iterations)
        if rel_iterations <= 0:
            raise ConfigError(f"rel_iterations must be positive, not {rel_iterations!r}")
        self.rel_iterations = float(rel_iterations)
        if int(n_samplers) < 1:
            raise ConfigError(f"n_samplers must be at least 1, not {n_samplers!r}")
        self.n_samplers = int(n_samplers)
        if int(n_runs) < 1:
            raise ConfigError(f"n_runs must be at least 1, not {n_runs!r}")
        self.n_runs = int(n_runs)
        if null_prior < 0:
            raise ConfigError(f"null_prior must not be negative, not {null_prior!r}")
        self.null_prior = float(null_prior)
        # The default prefix length applies only where no suffix length was asked for.
        if source_prefix_len is None:
            source_prefix_len = 0 if source_suffix_len else DEFAULT_PREFIX_LEN
        if target_prefix_len is None:
            target_prefix_len = 0 if target_suffix_len else DEFAULT_PREFIX_LEN
        for side, prefix, suffix in (
            ("source", source_prefix_len, source_suffix_len),
            ("target", target_prefix_len, target_suffix_len),
        ):
            if prefix < 0 or suffix < 0:
                raise ConfigError(f"{side} prefix/suffix lengths must not be negative")
            if prefix and suffix:
                # eflomal's reader applies only the prefix when both are set: refuse, not ignore.
                raise ConfigError(f"set either {side}_prefix_len or {side}_suffix_len, not both")
        self.source_prefix_len, self.source_suffix_len = (
            int(source_prefix_len),
            int(source_suffix_len),
        )
        self.target_prefix_len, self.target_suffix_len = (
            int(target_prefix_len),
            int(target_suffix_len),
        )
        self.lowercase = bool(lowercase)
        self.identical_links = bool(identical_links)
        self.link_scores = bool(link_scores)
        if not 1 <= int(max_length) <= MAX_LENGTH:
            raise ConfigError(f"max_length must be between 1 and {MAX_LENGTH}, not {max_length!r}")
        self.max_length = int(max_length)
        self.concurrent_directions = bool(concurrent_directions)
        self.quiet = bool(quiet)
        self.stats = EflomalStats()

    def _iterations(self, value: int | Sequence[int] | None) -> tuple[int, int, int] | None:
        if value is None:
            return None
        if isinstance(value, int | float):
            last = int(value)
            if last < 1:
                raise ConfigError(f"n_iterations must be at least 1, not {value!r}")
            return (max(1, last // 4), max(1, last // 4), last)
        values = tuple(int(v) for v in value)
        if len(values) != 3 or min(values) < 0:
            raise ConfigError(
                f"n_iterations must be a number or 3 non-negative numbers, not {value!r}"
            )
        return values  # type: ignore[return-value]

    def settings(self) -> dict[str, object]:
        """Every constructor parameter as held (read back, so a new parameter cannot be left
        out of a cache key) except those that only schedule or report the work, plus the eflomal
        package's version."""
        values: dict[str, object] = {}
        for name in inspect.signature(type(self)).parameters:
            if name in EXECUTION_ONLY:
                continue
            value = getattr(self, name)
            values[name] = list(value) if isinstance(value, tuple) else value
        values["eflomal_version"] = _eflomal_version()
        return values

    def iterations_for(self, n_sentences: int) -> tuple[int, int, int]:
        if self.n_iterations is not None:
            return self.n_iterations
        return default_iterations(n_sentences, self.model, self.rel_iterations)

    # ------------------------------------------------------------------ alignment

    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]:
        with tqdm(total=3, desc="eflomal", unit="step", disable=not progress) as bar:
            forward, reverse = self.directional(pairs, extra, bar)
            bar.set_postfix_str(self.symmetrization)
            alignments = self.combine(forward, reverse, pairs)
            bar.update()
        return alignments

    def combine(
        self,
        forward: Sequence[Sequence[Link]],
        reverse: Sequence[Sequence[Link]],
        pairs: Sequence[TokenPair],
    ) -> list[Alignment]:
        """Symmetrised alignments from directional links (as returned by `directional`)."""
        return [
            self._combine(fwd, rev, source, target)
            for fwd, rev, (source, target) in zip(forward, reverse, pairs, strict=True)
        ]

    def directional(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), bar: tqdm | None = None
    ) -> tuple[list[list[Link]], list[list[Link]]]:
        """Forward and reverse links of `pairs` (both as (source, target)), trained on pairs + extra.

        `bar`, when given, advances by one step after preparing the input and one after eflomal."""
        import eflomal.cython as backend  # imported here so the registry works without eflomal

        stats = EflomalStats(sentences=len(pairs), training_sentences=len(pairs) + len(extra))
        self.stats = stats
        if bar is None:
            bar = tqdm(total=2, disable=True)
        if not pairs:
            bar.update(2)
            return [], []
        corpus = list(pairs) + list(extra)
        bar.set_postfix_str("prepare")
        source_lines, target_lines = [], []
        for source, target in corpus:
            if len(source) > self.max_length or len(target) > self.max_length:
                stats.truncated += 1
            if not source or not target:
                stats.empty += 1
            source_lines.append(" ".join(_clean(t) for t in source[: self.max_length]))
            target_lines.append(" ".join(_clean(t) for t in target[: self.max_length]))
        if stats.truncated:
            log.warning(
                "eflomal: %d sentence pairs longer than %d tokens were truncated",
                stats.truncated,
                self.max_length,
            )
        stats.iterations = self.iterations_for(len(corpus))
        with tempfile.TemporaryDirectory(prefix="xner-eflomal-") as tmp:
            folder = Path(tmp)
            for name, lines, prefix, suffix in (
                ("source", source_lines, self.source_prefix_len, self.source_suffix_len),
                ("target", target_lines, self.target_prefix_len, self.target_suffix_len),
            ):
                sentences, index = backend.read_text(lines, self.lowercase, prefix, suffix)
                with open(folder / name, "wb") as handle:
                    backend.write_text(handle, tuple(sentences), len(index))
            bar.update()
            bar.set_postfix_str(f"align {MODELS[self.model]} {stats.iterations}")
            runs = []
            for run in range(self.n_runs):
                forward_path, reverse_path = folder / f"forward{run}", folder / f"reverse{run}"
                self._run_binary(folder, stats.iterations, forward_path, reverse_path)
                runs.append(
                    (_read_links(forward_path, len(pairs)), _read_links(reverse_path, len(pairs)))
                )
        bar.update()
        if len(runs) == 1:
            return runs[0]
        return _majority([f for f, _ in runs]), _majority([r for _, r in runs])

    def _run_binary(
        self,
        folder: Path,
        iterations: tuple[int, int, int],
        forward_path: Path,
        reverse_path: Path,
    ) -> None:
        """One eflomal model per direction over folder/source and folder/target: both directions
        in one process (eflomal's own way), or one process per direction running at once."""
        common = [
            str(_binary()),
            "-m",
            str(self.model),
            "-s",
            str(folder / "source"),
            "-t",
            str(folder / "target"),
            "-n",
            str(self.n_samplers),
            "-N",
            str(self.null_prior),
            "-1",
            str(iterations[0]),
            "-2",
            str(iterations[1]),
            "-3",
            str(iterations[2]),
            *(["-q"] if self.quiet else []),
        ]
        if self.concurrent_directions:
            commands = [common + ["-f", str(forward_path)], common + ["-r", str(reverse_path)]]
        else:
            commands = [common + ["-f", str(forward_path), "-r", str(reverse_path)]]
        processes: list[subprocess.Popen] = []
        try:
            for command in commands:
                processes.append(subprocess.Popen(command))
            codes = [process.wait() for process in processes]
        finally:  # interrupted or failed to start: leave no eflomal process running
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        failed = [code for code in codes if code != 0]
        if failed:
            raise ConfigError(f"the eflomal binary failed (exit status {failed[0]})")

    def _combine(
        self,
        forward: Sequence[Link],
        reverse: Sequence[Link],
        source: Sequence[str],
        target: Sequence[str],
    ) -> Alignment:
        links = self._symmetrize(forward, reverse)
        identical: set[Link] = set()
        if self.identical_links:
            identical = identical_links(source, target)
            links = links | identical
        if not self.link_scores:
            return Alignment(links)
        both = (set(forward) & set(reverse)) | identical
        scores = {
            link: BOTH_DIRECTIONS_SCORE if link in both else ONE_DIRECTION_SCORE for link in links
        }
        return Alignment(links, scores)


def _binary() -> Path:
    """The eflomal binary installed with the eflomal package."""
    import eflomal

    path = Path(eflomal.__file__).parent / "bin" / "eflomal"
    if not path.is_file():
        raise ConfigError(f"the eflomal binary was not found at {path} (reinstall eflomal)")
    return path


def _majority(runs: Sequence[Sequence[Sequence[Link]]]) -> list[list[Link]]:
    """Per pair, the links found by more than half of the runs (in sorted order)."""
    out = []
    for per_run in zip(*runs, strict=True):
        votes = Counter(link for links in per_run for link in set(links))
        out.append(sorted(link for link, n in votes.items() if 2 * n > len(runs)))
    return out


def _read_links(path: Path, n_pairs: int) -> list[list[Link]]:
    """The first n_pairs lines of an eflomal links file (0-based `i-j`, source-target order)."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(
            f"eflomal produced no output ({path.name} links): the binary failed"
        ) from None
    lines = text.split("\n")
    if len(lines) - 1 < n_pairs:  # the file ends with a newline
        raise ConfigError(
            f"eflomal wrote {len(lines) - 1} lines of {path.name} links for {n_pairs} pairs: "
            "the binary failed"
        )
    out = []
    for line in lines[:n_pairs]:
        links = []
        for item in line.split():
            i, _, j = item.partition("-")
            links.append((int(i), int(j)))
        out.append(links)
    return out
