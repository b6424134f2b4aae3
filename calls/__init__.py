"""The call record: every call and its timeline, fed by the PBX model's
events (tracking), the IVR (ivr_records) and Asterisk's queue_log
(reconcile).  The work a call starts elsewhere (a draft order, a callback
task) is done by the follow-ups other packages register
(:mod:`calls.followups`)."""
