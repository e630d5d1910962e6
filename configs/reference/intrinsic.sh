#!/usr/bin/env bash
# The projection paper's reference setup (Politov et al., NoDaLiDa 2025) as one command per
# language, for users with the Hugging Face Hub and a GPU (models are downloaded on first use).
#
#   bash configs/reference/intrinsic.sh DATASET LANG [METHOD] [ALIGNER]
#     DATASET  masakhaner2 | xtreme      LANG  e.g. yor, hau, swa (masakhaner2) or pt, sw, yo (xtreme)
#     METHOD   heuristic (default) | candidates-greedy | candidates-ilp | back-translation |
#              marker | model-transfer
#     ALIGNER  simalign (default: mBERT layer 8, IterMax, BPE level) | awesome-align
#   Environment: XNER_DATA (default ../shared/data), EXTRA_ARGS (appended, e.g. "--limit 100").
#
# Components (see reference.yaml for the expected F1 beside each setting):
#   translation  facebook/nllb-200-3.3B (beam 4, fp16 on GPU)
#   labeler      FacebookAI/xlm-roberta-large-finetuned-conll03-english
#   aligner      SimAlign bert-base-multilingual-cased, layer 8, IterMax, BPE; or awesome-align
#                (mBERT, softmax, threshold 0.001, layer 8)
#   scoring      PER/ORG/LOC (DATE and MISC ignored, as in the paper)
set -euo pipefail
dataset=${1:?dataset: masakhaner2 or xtreme}
lang=${2:?language code}
method=${3:-heuristic}
aligner=${4:-simalign}
data=${XNER_DATA:-$(dirname "$0")/../../../shared/data}

case "$dataset" in
  masakhaner2) test_file="$data/masakhaner2/$lang/test.txt" ;;
  xtreme) test_file="$data/wikiann_rahimi/$lang/test.txt" ;;
  *) echo "unknown dataset $dataset (masakhaner2 or xtreme)" >&2; exit 2 ;;
esac

case "$aligner" in
  simalign)
    aligner_args=(--aligner simalign --aligner-param model=bert-base-multilingual-cased
      --aligner-param layer=8 --aligner-param method=itermax --aligner-param token_type=bpe
      --aligner-param device=cuda) ;;
  awesome-align)
    aligner_args=(--aligner awesome-align --aligner-param model=bert-base-multilingual-cased
      --aligner-param layer=8 --aligner-param threshold=0.001 --aligner-param extraction=softmax
      --aligner-param device=cuda) ;;
  *) echo "unknown aligner $aligner (simalign or awesome-align)" >&2; exit 2 ;;
esac

exec xner eval-intrinsic \
  --target-conll "$test_file" --lang "$lang" \
  --translator hf --model facebook/nllb-200-3.3B \
  --translator-param beam_size=4 --translator-param max_length=256 --batch-size 16 \
  --labeler transformers \
  --labeler-param model=FacebookAI/xlm-roberta-large-finetuned-conll03-english \
  "${aligner_args[@]}" \
  --method "$method" --types PER ORG LOC --json ${EXTRA_ARGS:-}
