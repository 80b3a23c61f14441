"""Pure, scikit-learn-compatible transformers: chunking, embeddings, text and tabular features.

This package imports nothing else of casecast, so any pipeline can reuse it.
"""
