#!/bin/bash
# The flagship (configs/flagship.yaml, 5 languages x 3 modes x 3 seeds) on the device machine:
# the engine's process pool, one torch thread per worker. Writes the tables to $OUT.
#
# Nothing there reaches the Hub or PyPI, and only 64 MiB of ignored paths travel (the device
# tool's `carry`). So, here first:
#   1. the compact encoder folder (first 6 layers, float16, the pieces of the flagship's texts:
#      46.1 MiB; configs/flagship_dev_mt_teacher.yaml has the command), which the flagship's
#      labeler and model-transfer model name: artifacts/e5-small-L6-flagship;
#   2. the data, compressed (5.0 MiB): `bash bench/flagship_device.sh pack`.
# Then on the device: run(command="bash bench/flagship_device.sh",
#   carry=["artifacts/e5-small-L6-flagship", "artifacts/device-data.tar.xz"]).
# The `conll-encoder` labeler is trained there on first use (CoNLL-2003, 2 epochs).
set -eu
DATA=${XNER_DATA:-../shared/data}
if [ "${1:-}" = pack ]; then
  mkdir -p artifacts
  tar -C "$DATA" -cJf artifacts/device-data.tar.xz masakhaner2/{yor,hau,ibo,zul,pcm} \
    mafand_mt/en-{yor,hau,ibo,zul,pcm} conll2003_en
  ls -la artifacts/device-data.tar.xz
  exit 0
fi
mkdir -p artifacts/data
tar -C artifacts/data -xJf artifacts/device-data.tar.xz
export OMP_NUM_THREADS=1 XNER_DATA=$PWD/artifacts/data
xner experiment configs/flagship.yaml --data artifacts/data --executor pool --parallel 16 \
  --output "$OUT/results" --no-publish --quiet 2>&1 | grep -v -i warn | tee "$OUT/final.log" | tail -40
