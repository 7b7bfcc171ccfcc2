"""The embeddable agent view's settings: which origins may frame ``/embed/agent``.

The page itself is the console's (``guidepath.core.console.embed_page``); this
plugin holds the per-tenant list its admins keep (``allowed_origins``) and turns
embedding on or off for the tenant: disabled, or enabled with no origin listed,
the page refuses to be framed. See ``docs/embedding.md``.
"""
