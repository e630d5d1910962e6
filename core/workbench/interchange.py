"""Exchange labelled sentences with the annotation tools people already use (pure functions).

Formats: Label Studio tasks (with the projection as `predictions`; annotations read back),
doccano sequence-labelling JSONL (`{"text", "label": [[start, end, label]]}`), spaCy DocBin, and
CoNLL (`TOKEN TAG`). Every export writes the sentence id and its tokens alongside the text where
the format has room for them, so an import maps labels back onto exactly the project's tokens.

Character offsets refer to the detokenised text defined by `detokenize`: the tokens joined by
one space (a token that itself contains a space stays whole). On import, an entity's character
range becomes the tokens it overlaps; a range that does not start and end on token boundaries is
widened to whole tokens and counted in the report (`snapped`), never silently dropped.

`apply_import` then writes imported labels into a project's correction store, matching each
sentence by the content of its tokens (and its id where given), and reports what it did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.data.formats import format_conll, parse_conll
from core.data.tags import spans_to_tags, tags_to_spans
from core.data.types import Sentence, Span
from core.errors import InputError

FORMATS = {
    "label-studio": ("Label Studio tasks (JSON, projection as predictions)", "json"),
    "doccano": ("doccano sequence labelling (JSONL)", "jsonl"),
    "spacy": ("spaCy DocBin (binary)", "spacy"),
    "conll": ("CoNLL (TOKEN TAG)", "conll"),
}
LS_FROM, LS_TO = "label", "text"  # the control and object names of label_studio_config


@dataclass
class Item:
    """One sentence to export: its labels and, optionally, the projection it started from."""

    sentence: Sentence  # tokens, current labels (tags), id
    predicted: list[str] | None = None  # projected tags, offered as predictions
    model: str = ""  # where the prediction came from (a view such as `heuristic · eflomal`)


@dataclass
class ImportReport:
    sentences: int = 0  # sentences read from the file
    snapped: int = 0  # entities widened to whole tokens
    skipped: int = 0  # sentences without an annotation (Label Studio tasks never labelled)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------- text and offsets


def detokenize(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The text (tokens joined by one space) and each token's [start, end) character range."""
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return " ".join(tokens), offsets


def spans_to_chars(tokens: Sequence[str], spans: Iterable[Span]) -> list[tuple[int, int, str]]:
    _, offsets = detokenize(tokens)
    return [(offsets[s.start][0], offsets[s.end - 1][1], s.label) for s in spans]


def chars_to_spans(
    tokens: Sequence[str],
    entities: Iterable[tuple[int, int, str]],
    report: ImportReport | None = None,
    where: str = "",
) -> list[Span]:
    """Character ranges over `detokenize(tokens)` -> token spans (overlapping ones: the first
    wins, the others are noted)."""
    _, offsets = detokenize(tokens)
    spans: list[Span] = []
    for start, end, label in sorted(entities):
        covered = [k for k, (a, b) in enumerate(offsets) if a < end and start < b]
        if not covered or end <= start:
            raise InputError(f"{where}entity {label} at characters {start}-{end} covers no token")
        span = Span(covered[0], covered[-1] + 1, str(label))
        if report is not None and (
            offsets[covered[0]][0] != start or offsets[covered[-1]][1] != end
        ):
            report.snapped += 1
        if any(span.overlaps(s) for s in spans):
            if report is not None:
                report.notes.append(f"{where}overlapping entity {label} at {start}-{end} dropped")
            continue
        spans.append(span)
    return spans


def _tokens_of(record: Mapping, text: str) -> list[str]:
    tokens = record.get("tokens")
    if isinstance(tokens, list) and all(isinstance(t, str) for t in tokens):
        if " ".join(tokens) != text:
            raise InputError(
                f"record {record.get('id', '?')}: its tokens do not join to its text; "
                "the text was edited after export"
            )
        return tokens
    return [token for token in text.split(" ") if token]  # the inverse of detokenize


# ---------------------------------------------------------------------- Label Studio


def label_studio_config(labels: Sequence[str]) -> str:
    """The labelling interface for the exported tasks (paste into the project's settings)."""
    choices = "\n".join(f'    <Label value="{label}"/>' for label in labels)
    return (
        f'<View>\n  <Labels name="{LS_FROM}" toName="{LS_TO}">\n{choices}\n  </Labels>\n'
        f'  <Text name="{LS_TO}" value="${LS_TO}"/>\n</View>\n'
    )


def _ls_result(sid: str, tokens: Sequence[str], tags: Sequence[str]) -> list[dict]:
    text, _ = detokenize(tokens)
    out = []
    for n, (start, end, label) in enumerate(spans_to_chars(tokens, tags_to_spans(list(tags)))):
        out.append(
            {
                "id": f"{sid}-{n}",
                "from_name": LS_FROM,
                "to_name": LS_TO,
                "type": "labels",
                "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
            }
        )
    return out


def to_label_studio(items: Iterable[Item]) -> str:
    """Label Studio tasks (JSON list): the text, and the projection as a prediction; where the
    sentence was corrected, the correction is a prediction too, named `corrected`."""
    tasks = []
    for item in items:
        s = item.sentence
        text, _ = detokenize(s.tokens)
        predictions = []
        if item.predicted is not None:
            predictions.append(
                {
                    "model_version": item.model or "projection",
                    "result": _ls_result(s.id, s.tokens, item.predicted),
                }
            )
        if s.tags is not None and (item.predicted is None or list(s.tags) != item.predicted):
            predictions.append(
                {"model_version": "corrected", "result": _ls_result(s.id, s.tokens, s.tags)}
            )
        tasks.append(
            {
                "data": {LS_TO: text, "sentence_id": s.id, "tokens": s.tokens},
                "predictions": predictions,
            }
        )
    return json.dumps(tasks, ensure_ascii=False, indent=1)


def _ls_entities(result: Iterable[Mapping], where: str) -> list[tuple[int, int, str]]:
    out = []
    for region in result:
        if region.get("type") not in ("labels", None):
            continue
        value = region.get("value") or {}
        labels = value.get("labels") or []
        if not labels or "start" not in value or "end" not in value:
            raise InputError(f"{where}a result region lacks start/end/labels: {region!r:.120}")
        out.append((int(value["start"]), int(value["end"]), str(labels[0])))
    return out


def from_label_studio(data: str | bytes, report: ImportReport | None = None) -> list[Sentence]:
    """Sentences labelled in Label Studio (its JSON export): per task, the newest annotation
    that was not cancelled. Tasks nobody annotated are skipped (counted in the report)."""
    report = report if report is not None else ImportReport()
    try:
        tasks = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError(f"not Label Studio JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise InputError("not Label Studio JSON: expected a list of tasks")
    out = []
    for number, task in enumerate(tasks, 1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InputError(f"task {number}: no 'data' object")
        data_ = task["data"]
        text = data_.get(LS_TO)
        if not isinstance(text, str):
            raise InputError(f"task {number}: data has no '{LS_TO}' string")
        annotations = [
            a
            for a in task.get("annotations") or []
            if isinstance(a, dict) and not a.get("was_cancelled")
        ]
        if not annotations:
            report.skipped += 1
            continue
        newest = max(
            enumerate(annotations), key=lambda na: (str(na[1].get("updated_at") or ""), na[0])
        )[1]
        tokens = _tokens_of(data_, text)
        where = f"task {number}: "
        spans = chars_to_spans(
            tokens, _ls_entities(newest.get("result") or [], where), report, where
        )
        sid = str(data_.get("sentence_id", task.get("id", number - 1)))
        out.append(Sentence(tokens, spans_to_tags(spans, len(tokens)), id=sid))
    report.sentences += len(out)
    return out


# ---------------------------------------------------------------------- doccano


def to_doccano(sentences: Iterable[Sentence]) -> str:
    lines = []
    for s in sentences:
        text, _ = detokenize(s.tokens)
        labels = [list(e) for e in spans_to_chars(s.tokens, s.spans)]
        record = {"id": s.id, "text": text, "label": labels, "tokens": s.tokens}
        lines.append(json.dumps(record, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")


def from_doccano(data: str | bytes, report: ImportReport | None = None) -> list[Sentence]:
    """doccano JSONL: `label` as [[start, end, label]] or `entities` as objects with
    start_offset/end_offset/label (doccano's newer export)."""
    report = report if report is not None else ImportReport()
    text_data = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    out = []
    for number, line in enumerate(text_data.split("\n"), 1):
        if not line.strip():
            continue
        where = f"line {number}: "
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InputError(f"{where}expected an object with a 'text' string")
        entities: list[tuple[int, int, str]] = []
        for e in record.get("label") or []:
            if not (isinstance(e, list) and len(e) == 3):
                raise InputError(f"{where}a label must be [start, end, label], got {e!r:.60}")
            entities.append((int(e[0]), int(e[1]), str(e[2])))
        for e in record.get("entities") or []:
            entities.append((int(e["start_offset"]), int(e["end_offset"]), str(e["label"])))
        tokens = _tokens_of(record, record["text"])
        spans = chars_to_spans(tokens, entities, report, where)
        sid = str(record.get("sentence_id", record.get("id", number - 1)))
        out.append(Sentence(tokens, spans_to_tags(spans, len(tokens)), id=sid))
    report.sentences += len(out)
    return out


# ---------------------------------------------------------------------- spaCy


def to_docbin(items: Iterable[Item]) -> bytes:
    """A spaCy DocBin: tokens as Doc words, labels as `doc.ents`, the projection (when given)
    as the span group `projected`, the sentence id in `doc.user_data["id"]`."""
    from spacy.tokens import Doc, DocBin
    from spacy.tokens import Span as SpacySpan
    from spacy.vocab import Vocab

    vocab = Vocab()
    bin_ = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"], store_user_data=True)
    for item in items:
        s = item.sentence
        spaces = [True] * (len(s.tokens) - 1) + [False]
        doc = Doc(vocab, words=list(s.tokens), spaces=spaces)
        doc.ents = [SpacySpan(doc, e.start, e.end, label=e.label) for e in s.spans]
        if item.predicted is not None:
            doc.spans["projected"] = [
                SpacySpan(doc, e.start, e.end, label=e.label) for e in tags_to_spans(item.predicted)
            ]
        doc.user_data["id"] = s.id
        bin_.add(doc)
    return bin_.to_bytes()


def from_docbin(data: bytes, report: ImportReport | None = None) -> list[Sentence]:
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    report = report if report is not None else ImportReport()
    try:
        docs = list(DocBin().from_bytes(data).get_docs(Vocab()))
    except Exception as exc:  # spaCy raises ValueError/zlib/msgpack errors on foreign bytes
        raise InputError(f"not a spaCy DocBin ({type(exc).__name__})") from None
    out = []
    for n, doc in enumerate(docs):
        tokens = [t.text for t in doc]
        spans = [Span(e.start, e.end, e.label_) for e in doc.ents]
        sid = str(doc.user_data.get("id", n))
        out.append(Sentence(tokens, spans_to_tags(spans, len(tokens)), id=sid))
    report.sentences += len(out)
    return out


# ---------------------------------------------------------------------- CoNLL


def to_conll(sentences: Iterable[Sentence]) -> str:
    return format_conll(sentences)


def from_conll(data: str | bytes, report: ImportReport | None = None) -> list[Sentence]:
    """CoNLL carries no ids: the sentences are matched to the project by their tokens."""
    report = report if report is not None else ImportReport()
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    sentences = parse_conll(text, "<uploaded CoNLL>")
    for s in sentences:
        s.id = ""
    report.sentences += len(sentences)
    return sentences


def export(fmt: str, items: Sequence[Item]) -> bytes:
    """Items in format `fmt` (a key of FORMATS), as the bytes of a file to download."""
    if fmt == "label-studio":
        return to_label_studio(items).encode("utf-8")
    if fmt == "doccano":
        return to_doccano(i.sentence for i in items).encode("utf-8")
    if fmt == "spacy":
        return to_docbin(items)
    if fmt == "conll":
        return to_conll(i.sentence for i in items).encode("utf-8")
    raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")


def read(fmt: str, data: bytes, report: ImportReport | None = None) -> list[Sentence]:
    readers = {
        "label-studio": from_label_studio,
        "doccano": from_doccano,
        "spacy": from_docbin,
        "conll": from_conll,
    }
    if fmt not in readers:
        raise ValueError(f"unknown import format {fmt!r}; known: {', '.join(FORMATS)}")
    return readers[fmt](data, report)


def guess_format(name: str) -> str | None:
    """The format a file name suggests (.json Label Studio, .jsonl doccano, .spacy, .conll)."""
    lower = name.lower()
    for fmt, (_, suffix) in FORMATS.items():
        if lower.endswith("." + suffix):
            return fmt
    return None


# ---------------------------------------------------------------------- into the corrections


@dataclass
class ApplyReport:
    matched: int = 0
    changed: int = 0
    unchanged: int = 0
    unmatched: list[str] = field(default_factory=list)  # ids (or first words) not in the project

    def describe(self) -> str:
        text = (
            f"{self.matched} sentences matched the project: {self.changed} with new labels "
            f"(saved as corrections), {self.unchanged} unchanged"
        )
        if self.unmatched:
            text += (
                f"; {len(self.unmatched)} not in the project (tokens differ): "
                + ", ".join(self.unmatched[:5])
                + (", …" if len(self.unmatched) > 5 else "")
            )
        return text


def match_sentences(
    imported: Sequence[Sentence], project: Sequence[tuple[str, Sequence[str]]]
) -> list[tuple[Sentence, str | None]]:
    """Each imported sentence with the project sentence id it belongs to (None: not found).

    The tokens must be identical; among project sentences with those tokens, the one with the
    same id is taken first, else the first not yet taken (project order)."""
    from core.workbench.corrections import content_key

    by_key: dict[str, list[str]] = {}
    for sid, tokens in project:
        by_key.setdefault(content_key(tokens), []).append(sid)
    taken: set[str] = set()
    out: list[tuple[Sentence, str | None]] = []
    for s in imported:
        candidates = by_key.get(content_key(s.tokens), [])
        if s.id in candidates and s.id not in taken:
            chosen: str | None = s.id
        else:
            chosen = next((c for c in candidates if c not in taken), None)
        if chosen is not None:
            taken.add(chosen)
        out.append((s, chosen))
    return out


def apply_import(
    imported: Sequence[Sentence],
    project: Sequence[tuple[str, Sequence[str]]],
    projected: Mapping[str, list[str]],
    store,
    *,
    user: str,
    method: str = "",
) -> ApplyReport:
    """Save the imported labels as corrections (one `import` edit per changed sentence)."""
    report = ApplyReport()
    for sentence, sid in match_sentences(imported, project):
        if sid is None:
            report.unmatched.append(sentence.id or " ".join(sentence.tokens[:4]))
            continue
        report.matched += 1
        tags = sentence.tags or ["O"] * len(sentence.tokens)
        edit = store.set_tags(sid, tags, projected=projected[sid], user=user, method=method)
        if edit is None:
            report.unchanged += 1
        else:
            report.changed += 1
    return report
