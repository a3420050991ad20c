"""``python -m hierbayes``: the command line, as the ``hierbayes`` script."""

from hierbayes.output.cli import run

if __name__ == "__main__":
    run()
