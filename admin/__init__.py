"""Administration: the records an admin creates, edits and deactivates
(users, teams, agents, departments, the old hotlines' lines), their
imports from CSV or XLSX, and the routes and commands for both."""
