"""``cartoonbrain playground``: TensorFlow Playground on the real engine, in the browser.

A local web server (:mod:`.server`, the standard library's, on loopback) serves one page
(``static/``: HTML, JS and CSS shipped in the package, nothing fetched from outside) and
trains a real ``cb.Network`` for each page in a worker thread (:mod:`.session`),
streaming frames (:mod:`.frames`: the decision map, each hidden unit's map, the weights,
the losses, the diagnostics' findings) as Server-Sent Events. The data are
:mod:`.datasets`, the inputs :mod:`.features`, the page's settings and their bounds
:mod:`.settings`; :mod:`.export` writes the network as a model file and as a script.
See docs/playground.md.
"""

from .server import PlaygroundServer
from .session import Session, build_network
from .settings import Settings, parse

__all__ = ["PlaygroundServer", "Session", "Settings", "build_network", "parse"]
