"""The parts of ``bench/report.py`` (``make bench``), one job each:

* :mod:`.results`   where the results live (``bench/results/`` or ``--results``), reading their JSON, the git revision
* :mod:`.runner`    the commands of each section, running them (output filtered and logged), ``runs.json``
* :mod:`.hardware`  the hardware figures the report models with (from :data:`models.alspec.latency.HARDWARE`)
* :mod:`.md`        Markdown helpers: tables, byte counts, kernel parameters, provenance lines, notes
* :mod:`.plots`     the report's own plot (decode-attention bandwidth vs context)
* :mod:`.sections`  one module per REPORT.md section: kernels, speculative (torch + simulator), alspec, summary
* :mod:`.document`  REPORT.md: the header, the summary, the sections and the commands run, in that order

``bench/report.py`` runs as a script, so its folder ``bench/`` is first on ``sys.path`` and ``import reporting``
finds this package; inside it every import is relative.
"""
