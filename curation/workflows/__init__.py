"""The top layer of the engine: workflows that string capabilities together (:mod:`.analyze`, :mod:`.reproduce`,
the demo build in :mod:`.demo`). Capability modules never import from here."""
