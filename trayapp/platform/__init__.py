"""OS features behind one interface each, with a fallback that always works."""
