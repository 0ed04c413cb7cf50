"""``python -m bidopt``: the ``bidopt`` command, for an environment whose scripts folder is
not on the PATH (a scheduled task, a virtual environment not activated)."""
from bidopt.cli import main

if __name__ == "__main__":
    main()
