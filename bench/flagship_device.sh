#!/bin/bash
# The flagship run as measured (device: 16 CPU cores + 1 H100, 361 s). Expects the projected
# data in artifacts/flagship (python -c "from core.experiments.flagship import prepare_language ..." or a
# first bench/flagship.py run), MasakhaNER test + CoNLL train under artifacts/data, and seqeval
# importable (artifacts/pylib when the machine lacks it). Writes to $OUT.
export PYTHONPATH=$PWD/artifacts/pylib
python bench/flagship.py --langs yor hau ibo zul pcm --seeds 1 2 3 --parallel 18 \
  --data artifacts/data --work artifacts/flagship --out $OUT/results \
  --param batch_size=32 --param o_weight=0.3 --param threads=1 \
  --epochs 8 --student-epochs 5 --hard-weight 0 \
  --method heuristic --aligner-param symmetrization=grow-diag-final-and 2>&1 | grep -v -i warn | grep -v "^  " | tee $OUT/final.log | tail -40
