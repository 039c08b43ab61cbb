"""arXiv: the daily feed and, for backfills, the export API; parsing the announcement feeds."""
