//! Service level objectives on top of the stack: the rules and alerts (`rules`), the Grafana
//! dashboard (`dashboard`), the budget arithmetic people read (`explain`), and the live budget
//! report against a Prometheus (`report`). Everything but `report` is pure, so `render` can put
//! the rules and the dashboard among its manifests.

pub(crate) mod budget;
pub(crate) mod dashboard;
pub(crate) mod explain;
pub(crate) mod links;
pub mod openslo;
pub(crate) mod prometheus;
pub(crate) mod report;
pub(crate) mod rules;
