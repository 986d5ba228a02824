"""`python -m emulator --port 8081 --webhook-url ...`: run the emulator in the foreground."""

from emulator.server import main

main()
