from visitmap.cli import main

main()
