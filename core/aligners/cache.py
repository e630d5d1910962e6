"""A persistent alignment cache, so that a rerun of the same command reproduces its alignments.

eflomal samples: it seeds itself from /dev/urandom (its binary and Python API take no seed), so
two fresh alignments of the same input differ, and so do the projections and F1 built on them.
`CachedAligner` stores the alignments of such an aligner under a key that hashes everything that
determines them: the tokenised pairs and the extra training text (both, in order), the aligner's
name and `settings()` (which include the backend's version), xner's version and this file's
format. The same input and settings then give the same alignments, byte for byte; any change in
any of them is a new key and a fresh alignment.

One gzip-compressed JSON file per key under the cache folder (`default_cache_dir`), written
atomically (temporary file + rename). A damaged entry (truncated, bit-flipped: gzip's CRC, not
JSON, another key, the wrong number of pairs, links outside their sentence) is logged, deleted
and recomputed, never trusted. Delete the folder to empty the cache.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import zlib
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from core.aligners.base import Aligner, TokenPair
from core.data.formats import atomic_write
from core.data.types import Alignment

log = logging.getLogger(__name__)

# Bumped whenever the entry layout or the key's contents change: old entries are then misses.
FORMAT = 1


def default_cache_dir() -> Path:
    """$XNER_ALIGNMENT_CACHE, else $XDG_CACHE_HOME/xner (~/.cache/xner)/alignments."""
    explicit = os.environ.get("XNER_ALIGNMENT_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xner" / "alignments"


def _xner_version() -> str:
    try:
        return metadata.version("xner")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "source"


def alignment_key(
    aligner: str,
    settings: dict[str, object],
    pairs: Sequence[TokenPair],
    extra: Sequence[TokenPair] = (),
) -> str:
    """SHA-256 (hex) of the aligner, its settings, xner's version and the tokens, unambiguously.

    JSON keeps token boundaries and the pairs/extra boundary exact (any character may be in a
    token); `settings` must hold JSON values."""
    digest = hashlib.sha256()
    header = {"format": FORMAT, "xner": _xner_version(), "aligner": aligner, "settings": settings}
    digest.update(json.dumps(header, sort_keys=True, ensure_ascii=False).encode())
    for name, part in ((b"pairs", pairs), (b"extra", extra)):
        digest.update(b"\n%s %d\n" % (name, len(part)))
        digest.update(json.dumps(list(part)).encode())  # ASCII escapes: faster here
    return digest.hexdigest()


class CorruptEntry(Exception):
    """A cache entry that cannot be trusted (the message says why)."""


class AlignmentCache:
    """Alignments on disk, one file per key; safe to share between processes (atomic renames)."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json.gz"

    def get(self, key: str, pairs: Sequence[TokenPair]) -> list[Alignment] | None:
        """The stored alignments of `pairs` under `key`; None when absent or damaged (then the
        damaged entry is removed, so the caller's fresh alignment replaces it)."""
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:  # unreadable (permissions, a folder in its place): realign
            log.warning("alignment cache: cannot read %s (%s); realigning", path, exc)
            return None
        try:
            return decode_entry(raw, key, pairs)
        except CorruptEntry as exc:
            log.warning("alignment cache: ignoring damaged entry %s (%s); realigning", path, exc)
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, alignments: Sequence[Alignment]) -> bytes:
        """Store `alignments` under `key` (atomically); returns the entry's bytes."""
        raw = encode_entry(key, alignments)
        self.write(key, raw)
        return raw

    def write(self, key: str, raw: bytes) -> None:
        with atomic_write(self.path(key), "wb") as handle:
            handle.write(raw)


def encode_entry(key: str, alignments: Sequence[Alignment]) -> bytes:
    """Columns, not one object per link: per pair its link count and whether it has scores;
    then all source indices, all target indices and the scores (links sorted within a pair)."""
    counts, scored, sources, targets, scores = [], [], [], [], []
    for alignment in alignments:
        links = sorted(alignment.links)
        counts.append(len(links))
        sources += [i for i, _ in links]
        targets += [j for _, j in links]
        scored.append(bool(alignment.scores))
        if alignment.scores:
            scores += [alignment.scores[link] for link in links]
    entry = {
        "format": FORMAT,
        "key": key,
        "pairs": len(alignments),
        "counts": counts,
        "scored": scored,
        "sources": sources,
        "targets": targets,
        "scores": scores,
    }
    data = json.dumps(entry, separators=(",", ":")).encode()
    return gzip.compress(data, compresslevel=1, mtime=0)  # mtime=0: same alignments, same bytes


def decode_entry(raw: bytes, key: str, pairs: Sequence[TokenPair]) -> list[Alignment]:
    """The alignments in an entry, checked against its key and the pairs they align."""
    try:
        entry = json.loads(gzip.decompress(raw))
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # gzip CRC/length, JSON, UTF-8
        raise CorruptEntry(f"unreadable: {exc}") from None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        raise CorruptEntry("not an entry of this format and key")
    try:
        counts, scored = entry["counts"], entry["scored"]
        sources, targets, scores = entry["sources"], entry["targets"], entry["scores"]
        columns_ok = (
            entry["pairs"] == len(pairs) == len(counts) == len(scored)
            and len(sources) == len(targets) == sum(counts)
            and len(scores) == sum(c for c, s in zip(counts, scored) if s)
            and {type(x) for x in (*counts, *sources, *targets)} <= {int}
            and {type(x) for x in scores} <= {int, float}
        )
    except (KeyError, TypeError):
        columns_ok = False
    if not columns_ok:
        raise CorruptEntry(f"not {len(pairs)} well-formed alignments")
    out = []
    at = scored_at = 0
    for n, (count, has_scores, (source, target)) in enumerate(zip(counts, scored, pairs)):
        ii, jj = sources[at : at + count], targets[at : at + count]
        at += count
        if count and not (
            min(ii) >= 0 and max(ii) < len(source) and min(jj) >= 0 and max(jj) < len(target)
        ):
            raise CorruptEntry(f"alignment {n} has a link outside its sentences")
        links = list(zip(ii, jj))
        if has_scores:
            link_scores = dict(zip(links, map(float, scores[scored_at : scored_at + count])))
            scored_at += count
        else:
            link_scores = {}
        out.append(Alignment(frozenset(links), link_scores))
    return out


class CachedAligner(Aligner):
    """`aligner` behind an AlignmentCache: the first call on an input aligns and stores, later
    calls with the same input and settings read the stored alignments back.

    `hits` and `misses` count the calls answered from the cache and those that aligned. It
    shows the wrapped aligner's name and capabilities, and passes other attributes through."""

    def __init__(self, aligner: Aligner, cache: AlignmentCache | None = None):
        self.aligner = aligner
        self.cache = cache if cache is not None else AlignmentCache()
        self.name = aligner.name
        self.trains_on_corpus = aligner.trains_on_corpus
        self.needs_encoder = aligner.needs_encoder
        self.deterministic = aligner.deterministic
        self.hits = self.misses = 0

    def __getattr__(self, name: str) -> object:  # only for names not found on the wrapper
        if name == "aligner":  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.aligner, name)

    def settings(self) -> dict[str, object]:
        return self.aligner.settings()

    def key(self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = ()) -> str:
        return alignment_key(self.aligner.name, self.aligner.settings(), pairs, extra)

    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]:
        key = self.key(pairs, extra)
        stored = self.cache.get(key, pairs)
        if stored is not None:
            self.hits += 1
            log.info("alignment cache hit: %d pairs (%s)", len(pairs), self.cache.path(key))
            return stored
        self.misses += 1
        raw = encode_entry(key, self.aligner.align(pairs, extra, progress=progress))
        try:
            self.cache.write(key, raw)
        except OSError as exc:  # a read-only or full disk costs reproducibility, not the run
            log.warning("alignment cache: cannot store in %s: %s", self.cache.folder, exc)
        # What is returned is what a later hit reads back (same link order, same score types),
        # so the first run's outputs match the reruns' byte for byte.
        return decode_entry(raw, key, pairs)


def cached(aligner: Aligner, cache: AlignmentCache | None = None) -> Aligner:
    """`aligner` behind the cache when its output is random (it is not `deterministic`);
    a deterministic aligner is returned as it is (rerunning it reproduces it already)."""
    if aligner.deterministic or isinstance(aligner, CachedAligner):
        return aligner
    return CachedAligner(aligner, cache)
