"""Outcome models and precedent indexes as artifacts: pyfunc wrappers, registry, loading."""
