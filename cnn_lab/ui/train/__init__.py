"""The Train & compare tab: the two models' setup, the run and its results."""
