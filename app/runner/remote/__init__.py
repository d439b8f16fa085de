"""Past one machine: app replicas hand runs to worker hosts through Redis.

    app replica: RemoteRunner (client.py) ── Redis (playground.lua) ── worker hosts (host.py)

Every replica and every host speaks to Redis only through the function library in
playground.lua (loaded by queue.py), where each change of a run's state is one atomic call: the
fair order, the positions, `busy`, the rate limit and the heartbeats live there, so they hold
across replicas. A worker host (`python -m app worker-host --redis URL`) wraps the local Runner
unchanged. Never imports streamlit.
"""
