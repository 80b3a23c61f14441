"""The FastAPI service: outcome predictions and similar precedents, by registered model URI."""
