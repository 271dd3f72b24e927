"""Models and the training loop, and where a run executes (worker processes, threads, process groups)."""
