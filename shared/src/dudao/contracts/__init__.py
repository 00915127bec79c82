"""Event contracts between services: the only thing besides the kit that services share.

One module per emitting service; importing this package registers every event type in the catalog.
"""

from dudao.contracts import governance, inspection, monitoring, rectification, supervision

__all__ = ["governance", "inspection", "monitoring", "rectification", "supervision"]
