"""The supervisors' live floor: figures per queue and agent pushed over the
WebSocket, alerts they acknowledge, and their actions on agents and calls."""
