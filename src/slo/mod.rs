//! Service level objectives on top of the stack: the rules and alerts (`rules`) and the Grafana
//! dashboard (`dashboard`). Both are pure, so `render` puts them among its manifests.

pub mod dashboard;
pub mod rules;
