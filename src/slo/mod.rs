//! Service level objectives on top of the stack: the rules and alerts (`rules`), the Grafana
//! dashboard (`dashboard`), the budget arithmetic people read (`explain`), and the live budget
//! report against a Prometheus (`report`). Everything but `report` is pure, so `render` can put
//! the rules and the dashboard among its manifests.

pub mod budget;
pub mod dashboard;
pub mod explain;
pub mod links;
pub mod openslo;
pub mod prometheus;
pub mod report;
pub mod rules;
