"""Reports per queue, category, agent and department, per day, week and
month (issue #12): daily roll-ups kept as calls and orders change
(rollup.py), read by query.py, exported by export.py."""
