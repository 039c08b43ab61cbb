"""The service's daily work: the scheduler, the jobs it runs, arXiv's calendar and the
shared feed."""
