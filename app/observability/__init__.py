"""What an operator sees of a running playground: logs (logs.py), one structured line per run
(runs.py) and Prometheus metrics (metrics.py), from the app replica and from every worker host."""
