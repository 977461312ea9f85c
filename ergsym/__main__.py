"""``python -m ergsym``: the same command line as the ``ergsym`` entry point."""

from .cli import main

if __name__ == "__main__":
    main()
