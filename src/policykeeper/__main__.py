from policykeeper.cli import main

main()
