"""`bordersim serve`: the analyst's workbench, a server-rendered web application.

FastAPI serves pages rendered with Jinja2; HTMX (vendored in `static/`, no CDN) swaps fragments for
inline validation and live job progress. Jobs run in one worker process, the only writer of the
store; request handlers open the store read-only. See docs/web.md.
"""
