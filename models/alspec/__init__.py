"""ALSpec (attention-level speculation, Cai et al., ICML 2025) on the project's models.

* :mod:`models.alspec.reference`: verify-only ALSpec on the reference model (the paper's quality
  measurement and the golden semantics), hit-rate / perplexity / agreement sweeps.
* :mod:`models.alspec.protocol`: the same on the TT-Lang kernel models: the kernel-level verify-only hook and
  the two-device protocol over a 1x2 mesh (simulator), both through :func:`models.decoder_step.decode_step`.
* :mod:`models.alspec.latency`: the latency model of ALSpec decode on a device pair vs one device.

The entry point is ``python models/llama_alspec.py`` (``python -m models.llama_alspec``).
"""
