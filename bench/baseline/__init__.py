"""xner's projection and tokenisation as of commit 3088df9, kept fixed so that benchmarks can time
today's code against it in the same run. Files copied with `git show 3088df9:<path>`; the only
edits: the projectors register into a registry of their own (base.py) and import it from here,
and they use that commit's data types (types.py, from core/data/types.py) and IOB2 decoding
(tags.py, `tags_to_spans` from core/data/tags.py), so today's faster types do not leak in."""
