"""The zygote process and the children it forks: fork_server.py (`python -m app.runner.zygote`)
imports JAX once and forks; child.py is a run's process around the user's code; gpu_preload.py
loads the GPU libraries once in the zygote.
"""
