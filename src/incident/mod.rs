//! Incident response, downstream of the SLO model: runbooks for every generated alert (pure,
//! like render) and postmortems (the SLO model, an incident file and Prometheus for the window).

pub(crate) mod explore;
pub mod postmortem;
pub(crate) mod runbook;
