"""Report writers: plain objects in, files out; no pytest import."""
