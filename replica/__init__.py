"""nianbao: replica.

The bundled replica portals: a loopback HTTP server serving two Hanweb 大汉 JCMS portals
(桐乡, 台州) built from data/plan.toml, and the ground truth to compare a crawl against; and, when
named, the portals of data/families.toml (TRS, jpaas, generic with the real web's faults, and the
crawl benchmark's). Imports nothing of ours.
"""

from replica.settings import settings_for

__all__ = ["settings_for"]
