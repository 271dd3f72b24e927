"""The command line: serve the playground, train a setup in a terminal, sweep a grid."""
