"""What every stage needs to stay safe with hostile input and output: opening the user's and
the tool's own files (files.py), keeping secrets out of every output (secrets.py), and making
text terminal-safe (terminal.py)."""
