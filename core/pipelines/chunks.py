"""Projection in chunks: memory bounded by the chunk size whatever the corpus size, and shards
that separate processes (or SLURM array tasks) run independently and `merge_shards` joins.

The corpus is cut into consecutive chunks of `chunk_size` pairs; each chunk is tokenised,
aligned (a statistical aligner trains on the chunk plus the extra parallel text, so a chunk
should stay large: see bench/streaming.py for F1 against chunk size) and projected, and its
output written before the next chunk is read. Shard k of n takes the chunks whose number is
k modulo n, so a shard's output is a fixed function of the input, the chunk size and (k, n),
and the merged output lists every pair once, in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TypeVar

from core.aligners.base import Aligner, TokenPair
from core.data.formats import atomic_write
from core.data.types import Projection, SentencePair
from core.errors import ConfigError, InputError
from core.pipelines.steps import align_pairs, project_pairs
from core.projection.base import Projector

T = TypeVar("T")
S = TypeVar("S")

# Pairs per chunk unless asked otherwise: eflomal's alignments (and the projection F1 built on
# them) stop improving well below this size (bench/streaming.py), and a chunk of this size
# stays within a few hundred MiB.
DEFAULT_CHUNK_SIZE = 20_000


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based): the chunks numbered index, index + count, ..."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ConfigError(
                f"shard index must be in 0..{self.count - 1} for {self.count} shards, "
                f"not {self.index}"
            )

    def owns(self, chunk_number: int) -> bool:
        return chunk_number % self.count == self.index


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last one shorter)."""
    if size < 1:
        raise ConfigError(f"chunk size must be at least 1, not {size}")
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def parallel(
    sources: Iterable[S], targets: Iterable[T], source_name: str, target_name: str
) -> Iterator[tuple[S, T]]:
    """Pairs of two line-parallel streams; a length mismatch is an error naming both counts."""
    source_it, target_it = iter(sources), iter(targets)
    count = 0
    for source in source_it:
        target = next(target_it, _END)
        if target is _END:
            rest = 1 + sum(1 for _ in source_it)
            raise ConfigError(
                f"{count + rest} source sentences but {count} target sentences: the inputs are "
                f"not parallel ({source_name}, {target_name})"
            )
        count += 1
        yield source, target  # type: ignore[misc]
    rest = sum(1 for _ in target_it)
    if rest:
        raise ConfigError(
            f"{count} source sentences but {count + rest} target sentences: the inputs are "
            f"not parallel ({source_name}, {target_name})"
        )


_END = object()


@dataclass
class ChunkStats:
    pairs: int = 0
    chunks: int = 0
    skipped_chunks: int = 0  # other shards' chunks
    source_entities: int = 0
    projected: int = 0
    extra: dict = field(default_factory=dict)


def project_chunks(
    raw_pairs: Iterable[tuple[S, T]],
    prepare: Callable[[list[tuple[S, T]], int], list[SentencePair]],
    aligner: Aligner,
    projector: Projector,
    extra: Sequence[TokenPair] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    shard: Shard = Shard(),
    stats: ChunkStats | None = None,
    progress: bool = False,
) -> Iterator[list[Projection]]:
    """Align and project a stream of raw pairs chunk by chunk, yielding each chunk's projections.

    `prepare(raw_chunk, offset)` turns a chunk of raw pairs (lines, parsed sentences) into
    sentence pairs, `offset` being the number of pairs before it; it runs only for this shard's
    chunks, so other shards' chunks are read but never tokenised or labelled."""
    stats = stats if stats is not None else ChunkStats()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="project", unit="pair")
    offset = 0
    for number, raw in enumerate(chunked(raw_pairs, chunk_size)):
        if not shard.owns(number):
            stats.skipped_chunks += 1
            offset += len(raw)
            continue
        pairs = prepare(raw, offset)
        offset += len(raw)
        align_pairs(pairs, aligner, extra)
        projections = project_pairs(pairs, projector)
        stats.chunks += 1
        stats.pairs += len(pairs)
        stats.source_entities += sum(len(p.pair.source.spans) for p in projections)
        stats.projected += sum(len(p.spans) for p in projections)
        if bar is not None:
            bar.update(len(pairs))
        yield projections
    if bar is not None:
        bar.close()


# --------------------------------------------------------------------------- merging shards


def _conll_records(path: Path) -> Iterator[str]:
    """Sentence blocks of a CoNLL file as written by xner (token lines, then a blank line)."""
    with open(path, encoding="utf-8", newline="") as handle:
        block: list[str] = []
        for line in handle:
            block.append(line)
            if not line.strip():
                yield "".join(block)
                block = []
        if block:
            yield "".join(block)


def _jsonl_records(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        for line in handle:
            if line.strip():
                yield line if line.endswith("\n") else line + "\n"


def merge_shards(
    shard_paths: Sequence[str | Path], output: str | Path, chunk_size: int, kind: str
) -> int:
    """Join the outputs of shards 0..n-1 (in that order) into the unsharded output: chunk 0 of
    shard 0, chunk 0 of shard 1, ..., chunk 1 of shard 0, ... `kind` is `conll` or `jsonl`.
    Returns the number of sentences. Shards that do not fit together (a short chunk before the
    end, a shard with chunks left over) are an error naming the shard."""
    if kind not in ("conll", "jsonl"):
        raise ConfigError(f"kind must be conll or jsonl, not {kind!r}")
    if chunk_size < 1:
        raise ConfigError(f"chunk size must be at least 1, not {chunk_size}")
    reader = _conll_records if kind == "conll" else _jsonl_records
    for path in shard_paths:
        if not Path(path).is_file():
            raise InputError("shard output not found", path)
    streams = [reader(Path(p)) for p in shard_paths]
    total = 0
    ended_at: int | None = None  # the shard whose short (or empty) chunk ended the corpus
    with atomic_write(output) as handle:
        while ended_at is None:
            for k, stream in enumerate(streams):
                chunk = list(islice(stream, chunk_size))
                handle.writelines(chunk)
                total += len(chunk)
                if len(chunk) < chunk_size:
                    ended_at = k
                    break
        for k, (path, stream) in enumerate(zip(shard_paths, streams)):
            if next(stream, None) is not None:
                raise InputError(
                    f"shard {k} has sentences after the corpus ended in shard {ended_at}'s "
                    f"last chunk: the shards were not made with chunk size {chunk_size}",
                    path,
                )
    return total
