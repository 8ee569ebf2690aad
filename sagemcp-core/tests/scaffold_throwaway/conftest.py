"""`package/` holds files for a generated connector package, not tests of core: they run in that package."""

collect_ignore_glob = ["package/*"]
