"""`python -m cnn_lab [serve|train|sweep] ...`: the same as the `cnn-lab` command (and what torchrun's -m runs)."""

from cnn_lab.cli.main import main

if __name__ == "__main__":
    main()
