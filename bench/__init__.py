"""Benchmarks: scripts that print their figures and write JSON (and plots) to ``bench/results/``.

Run them as scripts from any directory (``python bench/<name>.py``); ``make bench`` runs ``bench/report.py``,
which runs the others and writes ``bench/results/REPORT.md``.

* ``traffic.py``      DRAM <-> L1 traffic of every registered kernel at the models' shapes vs the minimum
* ``attention.py``    decode attention at Llama-3.1-8B shapes vs context: traffic, core balance, roofline
* ``decode_step.py``  one decode step of the kernel-built decoder, per kernel (simulator time, bytes, roofline)
* ``speculative.py``  speculative decoding: our drafts next to HF transformers' peers (torch or simulator target)
* ``alspec.py``       ALSpec figures that need no model: the two-device swap's traffic and the latency table
* ``report.py``       the ``make bench`` command line: runs the scripts above, then builds REPORT.md with
  :mod:`reporting` (``bench/reporting/``: the runner, one module per report section, Markdown and plot helpers)

The scripts import only installed packages (``ttl_kernels``, ``models``, ``reference``); ``report.py`` also imports
its own ``reporting`` package, which Python finds because a script's folder is the first entry of ``sys.path``.
"""
