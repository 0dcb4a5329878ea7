//! Every command and flag, in one place. Each subcommand is handled by one function in
//! `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::profile::PromDuration;
use crate::slo::report::BudgetState;

#[derive(Debug, Parser)]
#[command(
    name = "obsctl",
    version,
    about = "Stand up and keep honest an observability stack on Kubernetes",
    long_about = "obsctl installs kube-prometheus-stack, Loki, Tempo and an OpenTelemetry Collector from one \
                  declarative stack profile, wires Grafana's cross-links, turns SLOs into rules and alerts, \
                  verifies the running stack end to end and estimates its cost.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The profile used without `--profile` (or with `OBSCTL_PROFILE` unset or empty).
pub const DEFAULT_PROFILE: &str = "dev";

/// `--profile NAME|PATH`: a built-in profile (dev, production, ha) or a YAML file.
#[derive(Debug, Clone, Args)]
pub struct ProfileArg {
    /// Built-in profile name (dev, production, ha) or path to a profile YAML file
    #[arg(
        short,
        long,
        env = "OBSCTL_PROFILE",
        default_value = DEFAULT_PROFILE,
        value_name = "NAME|PATH"
    )]
    pub profile: String,
    /// Put every release and manifest in this namespace instead of the profile's `namespace:`
    #[arg(short = 'n', long, value_name = "NAME")]
    pub namespace: Option<String>,
}

/// How to reach the cluster, like kubectl.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kube context to use (default: the kubeconfig's current context)
    #[arg(long, visible_alias = "kube-context", value_name = "NAME")]
    pub context: Option<String>,
}

/// How Helm is found.
#[derive(Debug, Clone, Args)]
pub struct HelmArgs {
    /// Helm executable (default: $OBSCTL_HELM, then `helm` on PATH)
    #[arg(long, value_name = "PATH", env = "OBSCTL_HELM")]
    pub helm: Option<PathBuf>,
}

/// `-o` of commands that print one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableOrJson {
    Table,
    Json,
    Yaml,
}

/// `-o` of `up` and `down`: a table for people, or a stream of events for machines (one JSON
/// object per line, or one YAML document per event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventFormat {
    Table,
    Json,
    Yaml,
}

impl EventFormat {
    /// Whether the output is the event stream (JSON or YAML), not the table.
    pub fn is_stream(self) -> bool {
        self != EventFormat::Table
    }
}

/// `-o` of commands that print one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YamlOrJson {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Yaml,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostFormat {
    Table,
    Json,
    Yaml,
    Csv,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render Helm values, manifests and plan.json into a directory (no cluster needed)
    Render(RenderArgs),
    /// Show the releases in install order, their charts, namespaces and storage
    Plan(PlanArgs),
    /// Install or upgrade the stack: CRDs, kube-prometheus-stack, Loki and Tempo, the collector, manifests
    Up(UpArgs),
    /// Uninstall the stack in reverse order (volumes and CRDs are kept unless --purge-data)
    Down(DownArgs),
    /// Smoke-check the running stack, from workloads to a log line and a span read back
    Verify(VerifyArgs),
    /// Service level objectives: rules, budgets explained, budget reports
    #[command(subcommand)]
    Slo(SloCommand),
    /// Print or write the runbook of every SLO alert (symptoms, impact, commands, queries, templates)
    Runbook(RunbookArgs),
    /// Draft a blameless postmortem with the SLO impact of an incident computed from Prometheus
    Postmortem(PostmortemArgs),
    /// Estimate storage and monthly cost, and compare with commercial APM
    Cost(CostArgs),
    /// List, show and validate stack profiles
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Print the JSON Schema of stack profiles (for editor completion)
    Schema,
    /// Print shell completions
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    /// Output directory: created when missing; a previous render in it is replaced
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunbookFormat {
    Markdown,
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct RunbookArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    /// Only the runbook of this SLO
    #[arg(long, value_name = "NAME")]
    pub slo: Option<String>,
    #[arg(
        short = 'o',
        long,
        visible_alias = "output",
        value_enum,
        default_value = "markdown"
    )]
    pub format: RunbookFormat,
    /// Write `<slo>.md` (or `<slo>.json`) files into this directory instead of printing
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub helm: HelmArgs,
    /// Compare with the cluster: per release install / upgrade (changed values) / unchanged
    #[arg(long)]
    pub diff: bool,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub helm: HelmArgs,
    /// Print the steps (with the full Helm argv) and change nothing; needs no cluster
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run and no Helm found: the Helm major version to build the argv for
    #[arg(long, value_name = "3|4", default_value_t = 4, value_parser = clap::value_parser!(u8).range(3..=4))]
    pub helm_version: u8,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,
    /// Upgrade releases even when nothing changed
    #[arg(long)]
    pub force: bool,
    /// Allow changes that lose data (volume shrink, storage class change, retention cut)
    #[arg(long)]
    pub allow_destructive: bool,
    /// Take over the stack's lock although another run holds it (only when that run is gone)
    #[arg(long)]
    pub force_unlock: bool,
    /// Install although a volume is too small for the profile's own workload (it fills and
    /// loses data before the retention ends)
    #[arg(long)]
    pub accept_data_loss: bool,
    /// Timeout for each Helm release
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    pub timeout: PromDuration,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: EventFormat,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub helm: HelmArgs,
    /// Also delete the releases' PersistentVolumeClaims (lists them and asks first)
    #[arg(long)]
    pub purge_data: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,
    /// Take over the stack's lock although another run holds it (only when that run is gone)
    #[arg(long)]
    pub force_unlock: bool,
    /// Timeout for each Helm uninstall
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: PromDuration,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: EventFormat,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Reach Prometheus here instead of through the cluster
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Reach Alertmanager here instead of through the cluster
    #[arg(long, value_name = "URL")]
    pub alertmanager_url: Option<String>,
    /// Reach Grafana here (credentials from GRAFANA_USER/GRAFANA_PASSWORD or GRAFANA_TOKEN)
    #[arg(long, value_name = "URL")]
    pub grafana_url: Option<String>,
    /// Reach Loki here instead of through the cluster
    #[arg(long, value_name = "URL")]
    pub loki_url: Option<String>,
    /// Reach Tempo here (query API; OTLP/HTTP push goes to --tempo-otlp-url or port 4318 of the same host)
    #[arg(long, value_name = "URL")]
    pub tempo_url: Option<String>,
    /// Tempo's OTLP/HTTP receiver, when it is not port 4318 of --tempo-url
    #[arg(long, value_name = "URL")]
    pub tempo_otlp_url: Option<String>,
    /// Run only these components (comma-separated)
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub only: Vec<crate::verify::Component>,
    /// Bound for the whole run
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub timeout: PromDuration,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: TableOrJson,
    /// Also write a JUnit XML report here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SloCommand {
    /// Print the recording rules and multi-window multi-burn-rate alerts of the profile's SLOs
    Rules(SloRulesArgs),
    /// Explain error budgets and alert tiers, for the profile's SLOs or one objective
    Explain(SloExplainArgs),
    /// Query a live Prometheus: SLI, budget remaining, burn rates and policy state per SLO
    Report(SloReportArgs),
    /// Read OpenSLO v1 documents and print the equivalent `slos:` block of a profile
    Import(SloImportArgs),
    /// Write the profile's SLOs in another format (OpenSLO v1)
    Export(SloExportArgs),
}

#[derive(Debug, Args)]
pub struct SloImportArgs {
    /// OpenSLO v1 files (several documents each, separated by `---`); SLIs, alert policies and
    /// data sources referenced by name may be in any of them
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Validate the imported SLOs as if they were in this profile's `slos:`
    #[arg(long, value_name = "NAME|PATH")]
    pub profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// OpenSLO v1 `SLO` documents
    Openslo,
}

#[derive(Debug, Args)]
pub struct SloExportArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleFormat {
    /// PrometheusRule custom resources (kube-prometheus-stack loads them)
    PrometheusRule,
    /// A plain Prometheus rule file (`promtool check rules` accepts it)
    Prometheus,
}

#[derive(Debug, Args)]
pub struct SloRulesArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[arg(long, value_enum, default_value = "prometheus-rule")]
    pub format: RuleFormat,
    /// Write to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SloExplainArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    /// Explain this objective (percent) instead of the profile's SLOs
    #[arg(long, value_name = "PCT", requires = "window")]
    pub objective: Option<f64>,
    /// The SLO window with --objective, e.g. 30d
    #[arg(long, value_name = "DURATION", requires = "objective")]
    pub window: Option<PromDuration>,
    /// Requests per window, to show the budget as a number of bad events
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct SloReportArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    /// The Prometheus to query
    #[arg(long, value_name = "URL")]
    pub prometheus_url: String,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: ReportFormat,
    /// Exit 1 when any SLO is at or below this state (a deploy gate)
    #[arg(long, value_enum, value_name = "STATE")]
    pub fail_on: Option<BudgetState>,
    /// Bound for the queries
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub timeout: PromDuration,
    /// Evaluate at this instant instead of now (RFC 3339 or unix seconds), e.g. a month's end
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentFormat {
    Markdown,
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct PostmortemArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The SLOs the incident touched (names from the profile)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAME[,NAME…]",
        required_unless_present = "template"
    )]
    pub slo: Vec<String>,
    /// Incident start (RFC 3339 or unix seconds)
    #[arg(long, value_name = "TIME", required_unless_present = "template")]
    pub from: Option<String>,
    /// Incident end (RFC 3339 or unix seconds)
    #[arg(long, value_name = "TIME", required_unless_present = "template")]
    pub to: Option<String>,
    /// What people know: roles, timeline, five whys, action items (start from --template)
    #[arg(long, value_name = "FILE")]
    pub incident: Option<PathBuf>,
    /// Reach Prometheus here instead of through the cluster
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    #[arg(short, long, value_enum, default_value = "markdown")]
    pub output: DocumentFormat,
    /// Write to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print an empty, commented incident file to start from
    #[arg(long, conflicts_with_all = ["slo", "from", "to", "incident", "prometheus_url"])]
    pub template: bool,
    /// Bound for each query
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub timeout: PromDuration,
}

#[derive(Debug, Args)]
pub struct CostArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: CostFormat,
    /// A pricing catalog to use instead of the built-in one (the format `--catalog` prints)
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// Print the built-in pricing catalog (prices, sources, dates): a starting file for --pricing
    #[arg(long, conflicts_with_all = ["pricing", "chart", "scale"])]
    pub catalog: bool,
    /// Write a chart of monthly costs (SVG or PNG, by extension): bars, or lines with --scale
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// The bill at several sizes of one workload figure, e.g. `hosts=15,50,150,500`
    #[arg(long, value_name = "FIELD=V1,V2,...")]
    pub scale: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the built-in profiles
    List {
        #[arg(short, long, value_enum, default_value = "table")]
        output: TableOrJson,
    },
    /// Print a profile with `extends` resolved and defaults filled in
    Show {
        /// Built-in name or path
        name: String,
        #[arg(short, long, value_enum, default_value = "yaml")]
        output: YamlOrJson,
    },
    /// Validate profiles: schema, cross-field rules and the render lint
    Validate {
        /// Profile files or built-in names
        #[arg(required = true, value_name = "NAME|PATH")]
        files: Vec<String>,
    },
}

impl clap::builder::ValueParserFactory for PromDuration {
    type Parser = clap::builder::ValueParser;
    fn value_parser() -> Self::Parser {
        clap::builder::ValueParser::new(|s: &str| s.parse::<PromDuration>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_are_parsed_by_clap() {
        let cli = Cli::try_parse_from(["obsctl", "verify", "--timeout", "45s"]).unwrap();
        let Command::Verify(args) = cli.command else {
            panic!("not verify")
        };
        assert_eq!(args.timeout.as_secs(), 45);
        assert!(Cli::try_parse_from(["obsctl", "verify", "--timeout", "45x"]).is_err());
    }

    #[test]
    fn only_is_parsed_by_clap_case_insensitively_with_a_suggestion() {
        use crate::verify::Component;
        let cli =
            Cli::try_parse_from(["obsctl", "verify", "--only", "Loki,tempo,collector"]).unwrap();
        let Command::Verify(args) = cli.command else {
            panic!("not verify")
        };
        assert_eq!(
            args.only,
            [Component::Loki, Component::Tempo, Component::Collector]
        );
        let err = Cli::try_parse_from(["obsctl", "verify", "--only", "loki,promethues"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid value 'promethues' for '--only <LIST>'"),
            "{err}"
        );
        assert!(
            err.contains("a similar value exists: 'prometheus'"),
            "{err}"
        );
        assert!(err.contains("workloads, prometheus, alertmanager"), "{err}");
        let err = Cli::try_parse_from(["obsctl", "verify", "--only", "nothing-like-it"])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("similar value"), "{err}");
    }
}
