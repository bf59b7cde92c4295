"""The shared engine: files, project index, reachability, edits."""
