"""The canonical model both sources produce: workgroups, schedules and members as the YAML
declares them and as the live account reads back (workgroups.py), the live-to-model mapping
(live.py), and addresses (addresses.py)."""
