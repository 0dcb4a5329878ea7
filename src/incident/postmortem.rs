//! Postmortems: the SLO impact of an incident window, computed from Prometheus, and the document around it.
