"""Carrying out a plan: the needed calls in dependency order, the state written after each.

Guarantees (DESIGN principle 5):
  - before every create POST a pending record is written durably; the returned ID replaces
    it in one atomic state write;
  - an ambiguous create (sent, no answer) is resolved against the live account before it is
    tried again, so it never makes a duplicate;
  - on a failed call nothing new starts, what succeeded is kept, and the error names the
    address and the API's message;
  - a stop request (first Ctrl-C) lets in-flight calls finish and record, and starts nothing new.

executor.py turns the plan's changes into steps, scheduler.py runs them, writer.py records
each outcome in the state, events.py is what the run reports.
"""
