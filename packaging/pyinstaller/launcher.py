"""Entry script of the frozen app: the same ``main()`` the ``claude-watch`` console script runs
(it calls ``multiprocessing.freeze_support()`` first when frozen, for the scan pool's workers)."""

import sys

from trayapp.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
