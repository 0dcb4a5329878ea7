//! obsctl: stand up and keep honest an observability stack on Kubernetes.
//!
//! Data flows one way: `profile` (the validated model) → `render` (Helm values, manifests,
//! plan.json; pure) → `plan` (the ordered steps) → `executor`/`verify`/`cost`/`slo`. I/O lives at
//! the edges: `helm` (subprocess), `cluster` (Kubernetes API), `verify`'s probes (HTTP) and
//! `commands`.

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
pub mod render;
mod schedule;
pub mod slo;
mod suggest;
mod time;
mod verify;
mod yaml;
