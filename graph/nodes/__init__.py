"""The graph's nodes, one module each, as thin adapters: state in, update out.

Only `graph/builder.py` imports them; the work they do lives in agents/, tools/ and verifier/.
"""
