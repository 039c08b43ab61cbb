"""Measuring a scoring setup on labelled days (``papers eval``, bench/): the listings and
labels files and where they live."""
