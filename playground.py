"""Start the cnn_lab playground: python playground.py [--port 7860] [--share] [--data-dir DIR] (the same as `cnn-lab`)."""

from cnn_lab.cli.main import main

if __name__ == "__main__":
    main()
