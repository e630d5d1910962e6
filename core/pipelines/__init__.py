"""Pipelines composed from translators, labelers, aligners and projection methods:
translate-train, translate-test (the projection paper's intrinsic protocol), model transfer,
back-translation refinement and marker-based (EasyProject-style) projection."""
