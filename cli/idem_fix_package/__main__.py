"""`python -m idem_fix`: the same as the `idem-fix` command."""

from idem_fix.cli.main import main

main()
