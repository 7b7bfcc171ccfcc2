"""The Guided Paths HTTP API, one blueprint per resource: ``documents`` (paths,
drafts, versions, import/export), ``runs`` (start, answer, back, actions, apps,
hand-over) and ``media`` (images and videos for message steps).

Views are thin: they check the request, open one transaction and call the IO
side's modules (:mod:`~guidepath.guided_paths.store`,
:mod:`~guidepath.guided_paths.run_store`, :mod:`~guidepath.guided_paths.media`),
which hold the rules. ``plugin.register_routes`` returns the blueprints; nothing
here is imported by the rest of the package.
"""
