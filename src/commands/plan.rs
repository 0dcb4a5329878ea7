//! `obsctl plan`: the releases in install order, their charts and storage, and what would change in the cluster.

use anyhow::Result;
use serde_json::json;

use super::shared::{change_details, connect_checked, detect_helm, release_changes, with_runtime};
use crate::cli::{PlanArgs, TableOrJson};
use crate::cluster::Target;
use crate::exit::CommandOutcome;
use crate::output::{print_document, Table};
use crate::plan::diff::ReleaseChange;
use crate::profile::types::format_bytes_binary;
use crate::render::{Release, Rendered};

/// Offline by default (CI runs it without a cluster); `--diff` compares with the cluster.
pub fn run(args: PlanArgs) -> Result<CommandOutcome> {
    let (profile, rendered) = super::load_and_render(&args.profile)?;
    super::print_profile_warnings(&profile);
    for finding in crate::cost::volume_findings(&profile, &rendered) {
        eprintln!("warning: {finding}");
    }
    let diff = if args.diff {
        let helm = detect_helm(&args.helm)?;
        Some(with_runtime(async {
            let (_, target, helm) = connect_checked(&args.cluster, &profile, helm).await?;
            Ok((target, release_changes(&helm, &rendered).await?))
        })?)
    } else {
        None
    };
    let diff = diff.as_ref().map(|(t, c)| (t, c.as_slice()));
    match args.output {
        format @ (TableOrJson::Json | TableOrJson::Yaml) => {
            print_document(format == TableOrJson::Yaml, &plan_json(&rendered, diff))?
        }
        TableOrJson::Table => print_table(&rendered, diff)?,
    }
    Ok(CommandOutcome::Success)
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

fn plan_json(rendered: &Rendered, diff: Option<(&Target, &[ReleaseChange])>) -> serde_json::Value {
    let waves = waves(rendered);
    let mut out = json!({
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
    });
    if let Some((target, changes)) = diff {
        out["target"] = json!({"context": target.context, "cluster": target.cluster_url});
        for (release, change) in out["releases"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .zip(changes)
        {
            release["change"] = serde_json::to_value(&change.change).unwrap_or_default();
            release["destructive"] = serde_json::to_value(&change.destructive).unwrap_or_default();
        }
    }
    out
}

fn print_table(rendered: &Rendered, diff: Option<(&Target, &[ReleaseChange])>) -> Result<()> {
    let waves = waves(rendered);
    println!(
        "profile {} → namespace {}",
        rendered.profile, rendered.namespace
    );
    if let Some((target, _)) = diff {
        println!(
            "compared with context `{}` ({})",
            target.context, target.cluster_url
        );
    }
    let mut header = vec!["STEP", "RELEASE", "CHART", "VERSION", "NEEDS", "STORAGE"];
    if diff.is_some() {
        header.push("CHANGE");
    }
    let mut table = Table::new(header);
    let mut crds = vec![
        "0",
        "(crds)",
        "prometheus-operator CRDs",
        "server-side apply",
        "-",
        "-",
    ];
    if diff.is_some() {
        crds.push("apply");
    }
    table.row(crds);
    for (i, (release, wave)) in rendered.releases.iter().zip(&waves).enumerate() {
        let needs = if release.needs.is_empty() {
            "-".to_string()
        } else {
            release.needs.join(",")
        };
        let mut row = vec![
            wave.to_string(),
            release.name.clone(),
            release.chart.name.clone(),
            release.chart.version.clone(),
            needs,
            storage_text(release),
        ];
        if let Some((_, changes)) = diff {
            row.push(changes.get(i).map(|c| c.summary(3)).unwrap_or_default());
        }
        table.row(row);
    }
    let last = waves.iter().max().copied().unwrap_or(0) + 1;
    let manifests: Vec<_> = rendered
        .manifests
        .iter()
        .map(|m| m.path.trim_start_matches("manifests/").to_string())
        .collect();
    let mut row = vec![
        last.to_string(),
        "(manifests)".into(),
        manifests.join(", "),
        "server-side apply".into(),
        "all".into(),
        "-".into(),
    ];
    if diff.is_some() {
        row.push("apply".into());
    }
    table.row(row);
    table.print()?;
    if let Some((_, changes)) = diff {
        print!("{}", change_details(changes));
        for d in changes.iter().flat_map(|c| &c.destructive) {
            eprintln!("warning: {d} (`obsctl up` refuses this without --allow-destructive)");
        }
    }
    let total: u64 = rendered.releases.iter().map(storage_total).sum();
    println!(
        "persistent storage requested: {}",
        format_bytes_binary(total)
    );
    Ok(())
}
