#!/bin/bash
# The flagship (configs/flagship.yaml) on a many-core machine: the engine's process pool, one
# torch thread per worker. Expects MasakhaNER, MAFAND and CoNLL under artifacts/data (the
# projected data is built, or reused from artifacts/flagship). Writes the tables to $OUT.
export OMP_NUM_THREADS=1
xner experiment configs/flagship.yaml --data artifacts/data --executor pool --parallel 18 \
  --output "$OUT/results" --no-publish --quiet 2>&1 | grep -v -i warn | tee "$OUT/final.log" | tail -40
