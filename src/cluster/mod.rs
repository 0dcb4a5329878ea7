//! The Kubernetes API, through kube-rs: explicit calls, thin wrappers. Everything obsctl does to
//! a cluster goes through here.

mod client;
pub mod port_forward;
pub mod workloads;

pub use client::{connect, Target};
