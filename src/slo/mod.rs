//! Service level objectives on top of the stack: the rules and alerts (`rules`), the Grafana
//! dashboard (`dashboard`), the budget arithmetic people read (`explain`), and the live budget
//! report against a Prometheus (`report`, through `crate::prometheus`). The model they are
//! generated from is `profile::slo`; everything here but `report` is pure, so `render` can put
//! the rules and the dashboard among its manifests.

pub(crate) mod budget;
pub(crate) mod dashboard;
pub(crate) mod explain;
pub(crate) mod links;
pub mod openslo;
pub(crate) mod report;
pub(crate) mod rules;
