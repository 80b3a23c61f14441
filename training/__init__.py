"""Pipeline stages behind one CLI, `casecast`: prepare, embed, train, evaluate, index, promote."""
