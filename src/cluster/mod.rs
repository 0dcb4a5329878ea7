//! The Kubernetes API, through kube-rs: explicit calls, thin wrappers. Everything obsctl does to
//! a cluster goes through here.

pub mod apply;
pub mod claims;
mod client;
pub mod guard;
pub mod lock;
pub mod port_forward;
pub mod secret;
pub mod workloads;

pub use client::{connect, load_kubeconfig, unreachable, KubeconfigError, Target};
