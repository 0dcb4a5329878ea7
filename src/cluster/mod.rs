//! The Kubernetes API, through kube-rs: explicit calls, thin wrappers. Everything obsctl does to
//! a cluster goes through here.

pub mod apply;
pub(crate) mod claims;
mod client;
pub(crate) mod guard;
pub(crate) mod lock;
pub(crate) mod port_forward;
pub(crate) mod secret;
pub(crate) mod workloads;

pub use client::{connect, load_kubeconfig, unreachable, KubeconfigError, Target};
