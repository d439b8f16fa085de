"""`python -m app bench`: the runner's figures (figures.py) and, with --gpu, the accelerator's
(gpu_figures.py); measure.py holds what both use. The scripts under bench/ measure the rest.
"""
