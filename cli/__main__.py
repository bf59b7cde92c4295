from idem_fix.cli.main import main

main()
