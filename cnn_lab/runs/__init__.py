"""What outlives a run: the history (SQLite), reports, model files and the leaderboard."""
