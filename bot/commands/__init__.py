"""The command core: one answer for every front end. Every ``/papers`` command declared once
(``registry``), what a person asks and is told (``request``), and ``CommandCore`` (``core``)
with one method per command, by group."""
