"""Data that flows through xner: sentences, spans, tags, file formats, tokenisation."""
