"""Kernel templates for the offline template coder (agents/template_coder.py).

A template family turns a problem into candidate source without an LLM. Families register with
``@register("template", name)`` and implement `TemplateFamily` (agents/templates/base.py:
``matches(request)``, ``configs(request)``, ``render(request, config)``). The template coder
imports every module of this package, so a new family is one new file here (or a plugin).

Problems select a family through module-level metadata ``TEMPLATE`` (a dict with "kind"):

- ``{"kind": "elementwise", "expr": "x0 * tl.sigmoid(x0)"}``: out = expr over the forward
  arguments x0, x1, ... (float32 Triton values; later inputs may be trailing-dimension broadcasts
  of x0, e.g. a bias). ``"scalars": ["scale"]`` lets the expression use float attributes of the
  reference model. See elementwise.py.
- ``{"kind": "softmax" | "logsumexp" | "row_sum"}`` (``"keepdim": True`` for reductions that keep
  the last dimension), ``{"kind": "layernorm", "eps": 1e-5}``, ``{"kind": "rmsnorm"}``: row-wise
  over the last dimension; weight/bias found from the reference model's parameters or forward
  arguments (or named: ``"weight": "norm.weight"``). See rowwise.py.
- Attention: problems that define ``score_mod`` / ``mask_mod`` (see attention.py).
"""
