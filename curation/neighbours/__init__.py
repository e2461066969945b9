"""Everything built on one k-nearest-neighbour graph per embedding model: the graph itself (:mod:`.graph`), density,
uniqueness and outliers (:mod:`.density`), duplicate groups (:mod:`.dedup`), clusters (:mod:`.clusters`) and 2-D
maps (:mod:`.projection`). Pure functions plus thin workspace wrappers; no module here runs the others (that is
:mod:`curation.workflows.analyze`)."""
