//! obsctl: stand up and keep honest an observability stack on Kubernetes.
//!
//! Data flows one way: `profile` (the validated model, SLOs included: `profile::slo`) → `slo`
//! (rules, dashboards, budget arithmetic generated from it; pure) → `render` (Helm values,
//! manifests, plan.json; pure) → `plan` (the ordered steps) → `executor`/`verify`/`cost`/
//! `incident`, and `slo::report` for the live budget. I/O lives at the edges: `helm`
//! (subprocess), `cluster` (Kubernetes API), `prometheus` (the query API), `verify`'s probes
//! (HTTP) and `commands`.

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod cost;
mod executor;
pub mod exit;
pub mod helm;
pub mod incident;
pub mod output;
mod plan;
pub mod profile;
mod prometheus;
pub mod render;
mod schedule;
pub mod slo;
mod suggest;
mod time;
mod verify;
mod yaml;
