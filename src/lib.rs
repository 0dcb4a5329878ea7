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
pub mod error;
pub mod executor;
pub mod helm;
pub mod incident;
pub mod output;
pub mod plan;
pub mod profile;
pub mod render;
pub mod schedule;
pub mod slo;
pub mod suggest;
pub mod time;
pub mod verify;
pub mod yaml;
