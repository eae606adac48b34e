"""Kernel templates for the offline template coder.

A template family turns a problem into candidate source without an LLM. Families register with
``@register("template", name)`` and implement `TemplateFamily` (agents/templates/base.py).
Problems select a family through metadata: ``TEMPLATE = {"kind": ...}`` (see each family), or,
for attention, by defining ``score_mod`` / ``mask_mod``.
"""
