use anyhow::Result;
use serde_json::json;

use crate::cli::{PlanArgs, TableOrJson};
use crate::error::Outcome;
use crate::output::{print_json, Table};
use crate::profile::types::format_bytes_binary;
use crate::render::{Release, Rendered};

pub fn run(args: PlanArgs) -> Result<Outcome> {
    let (_, rendered) = super::load_and_render(&args.profile.profile)?;
    match args.output {
        TableOrJson::Json => print_json(&plan_json(&rendered))?,
        TableOrJson::Table => print_table(&rendered)?,
    }
    Ok(Outcome::Success)
}

/// Install wave of each release: 1 + the latest wave it needs. Releases of one wave install
/// concurrently.
pub fn waves(rendered: &Rendered) -> Vec<u32> {
    let mut waves: Vec<u32> = Vec::with_capacity(rendered.releases.len());
    for release in &rendered.releases {
        let wave = release
            .needs
            .iter()
            .filter_map(|need| rendered.releases.iter().position(|r| &r.name == need))
            .map(|i| waves[i] + 1)
            .max()
            .unwrap_or(1);
        waves.push(wave);
    }
    waves
}

fn storage_total(release: &Release) -> u64 {
    release
        .volumes
        .iter()
        .map(|v| v.size.bytes() * u64::from(v.replicas))
        .sum()
}

fn storage_text(release: &Release) -> String {
    if release.volumes.is_empty() {
        return "-".into();
    }
    release
        .volumes
        .iter()
        .map(|v| {
            if v.replicas > 1 {
                format!("{} {}×{}", v.component, v.replicas, v.size)
            } else {
                format!("{} {}", v.component, v.size)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn plan_json(rendered: &Rendered) -> serde_json::Value {
    let waves = waves(rendered);
    json!({
        "profile": rendered.profile,
        "namespace": rendered.namespace,
        "releases": rendered.releases.iter().zip(&waves).map(|(r, wave)| json!({
            "name": r.name,
            "namespace": r.namespace,
            "chart": r.chart,
            "needs": r.needs,
            "wave": wave,
            "volumes": r.volumes.iter().map(|v| json!({
                "component": v.component,
                "size": v.size.to_string(),
                "replicas": v.replicas,
            })).collect::<Vec<_>>(),
            "storage_bytes": storage_total(r),
        })).collect::<Vec<_>>(),
        "manifests": rendered.manifests.iter().map(|m| &m.path).collect::<Vec<_>>(),
        "storage_bytes": rendered.releases.iter().map(storage_total).sum::<u64>(),
    })
}

fn print_table(rendered: &Rendered) -> Result<()> {
    let waves = waves(rendered);
    println!(
        "profile {} → namespace {}",
        rendered.profile, rendered.namespace
    );
    let mut table = Table::new(["STEP", "RELEASE", "CHART", "VERSION", "NEEDS", "STORAGE"]);
    table.row([
        "0",
        "(crds)",
        "prometheus-operator CRDs",
        "server-side apply",
        "-",
        "-",
    ]);
    for (release, wave) in rendered.releases.iter().zip(&waves) {
        let needs = if release.needs.is_empty() {
            "-".to_string()
        } else {
            release.needs.join(",")
        };
        table.row([
            wave.to_string(),
            release.name.clone(),
            release.chart.name.clone(),
            release.chart.version.clone(),
            needs,
            storage_text(release),
        ]);
    }
    let last = waves.iter().max().copied().unwrap_or(0) + 1;
    let manifests: Vec<_> = rendered
        .manifests
        .iter()
        .map(|m| m.path.trim_start_matches("manifests/").to_string())
        .collect();
    table.row([
        last.to_string(),
        "(manifests)".into(),
        manifests.join(", "),
        "server-side apply".into(),
        "all".into(),
        "-".into(),
    ]);
    table.print()?;
    let total: u64 = rendered.releases.iter().map(storage_total).sum();
    println!(
        "persistent storage requested: {}",
        format_bytes_binary(total)
    );
    Ok(())
}
