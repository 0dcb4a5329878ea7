//! Reporters: a table for people, plain lines for pipes, JSON for programs, JUnit XML for CI.

use serde_json::json;

use super::{CheckResult, Status, VerifyReport};
use crate::output::Table;

/// `{"checks": [...], "summary": {"pass", "fail", "skip"}}`.
pub fn json(report: &VerifyReport) -> serde_json::Value {
    json!({
        "checks": report.checks,
        "summary": report.summary(),
    })
}

/// The table people read on a terminal.
pub fn table(report: &VerifyReport) -> Table {
    let mut table = Table::new(["COMPONENT", "CHECK", "STATUS", "TIME", "DETAIL"]);
    for c in &report.checks {
        table.row([
            c.component.name().to_string(),
            c.check.clone(),
            c.status.as_str().to_string(),
            duration(c),
            c.detail.clone(),
        ]);
    }
    table
}

/// One line per check, for pipes and logs: `fail prometheus/ready 12ms: …`.
pub fn lines(report: &VerifyReport) -> String {
    let mut out = String::new();
    for c in &report.checks {
        out.push_str(&format!(
            "{} {}/{} {}: {}\n",
            c.status.as_str(),
            c.component,
            c.check,
            duration(c),
            c.detail
        ));
    }
    out
}

fn duration(c: &CheckResult) -> String {
    if c.status == Status::Skip {
        "-".into()
    } else {
        format!("{}ms", c.duration_ms)
    }
}

/// `12 passed, 1 failed, 2 skipped in 3.4s`.
pub fn summary_line(report: &VerifyReport) -> String {
    let s = report.summary();
    format!(
        "{} passed, {} failed, {} skipped in {:.1}s",
        s.pass,
        s.fail,
        s.skip,
        report.wall.as_secs_f64()
    )
}

/// JUnit XML as Jenkins, GitLab and GitHub's test reporters read it: one test case per check,
/// classname = component.
pub fn junit(report: &VerifyReport) -> String {
    let s = report.summary();
    let secs = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let total = report.wall.as_secs_f64();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"obsctl verify\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{total:.3}\">\n",
        report.checks.len(),
        s.fail,
        s.skip
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"obsctl verify\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{total:.3}\">\n",
        report.checks.len(),
        s.fail,
        s.skip
    ));
    for c in &report.checks {
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
            escape(c.component.name()),
            escape(&c.check),
            secs(c.duration_ms)
        );
        match c.status {
            Status::Pass => {
                xml.push_str(&open);
                xml.push_str(&format!(
                    ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                    escape(&c.detail)
                ));
            }
            Status::Fail => {
                xml.push_str(&open);
                xml.push_str(&format!(
                    ">\n      <failure message=\"{0}\" type=\"fail\">{0}</failure>\n    </testcase>\n",
                    escape(&c.detail)
                ));
            }
            Status::Skip => {
                xml.push_str(&open);
                xml.push_str(&format!(
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    escape(&c.detail)
                ));
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// XML text and attribute escaping; control characters XML 1.0 forbids are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Component;
    use std::time::Duration;

    fn report() -> VerifyReport {
        VerifyReport {
            checks: vec![
                CheckResult {
                    component: Component::Prometheus,
                    check: "ready".into(),
                    status: Status::Pass,
                    detail: "ready at http://127.0.0.1:9090/".into(),
                    duration_ms: 12,
                },
                CheckResult {
                    component: Component::Grafana,
                    check: "datasource/loki".into(),
                    status: Status::Fail,
                    detail: "loki datasource unhealthy (ERROR): <no \"connection\"> & more".into(),
                    duration_ms: 1500,
                },
                CheckResult {
                    component: Component::Correlation,
                    check: "log-to-trace".into(),
                    status: Status::Skip,
                    detail: "loki/push failed".into(),
                    duration_ms: 0,
                },
            ],
            wall: Duration::from_millis(1520),
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let v = json(&report());
        assert_eq!(v["summary"], json!({"pass": 1, "fail": 1, "skip": 1}));
        assert_eq!(
            v["checks"][0],
            json!({"component": "prometheus", "check": "ready", "status": "pass",
                   "detail": "ready at http://127.0.0.1:9090/", "duration_ms": 12})
        );
    }

    #[test]
    fn lines_and_summary_read_plainly() {
        let r = report();
        assert_eq!(
            lines(&r).lines().nth(2).unwrap(),
            "skip correlation/log-to-trace -: loki/push failed"
        );
        assert_eq!(summary_line(&r), "1 passed, 1 failed, 1 skipped in 1.5s");
    }

    #[test]
    fn junit_escapes_and_counts() {
        let xml = junit(&report());
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml
            .contains("<testcase classname=\"grafana\" name=\"datasource/loki\" time=\"1.500\">"));
        assert!(xml.contains(
            "message=\"loki datasource unhealthy (ERROR): &lt;no &quot;connection&quot;&gt; &amp; more\""
        ));
        assert!(xml.contains("<skipped message=\"loki/push failed\"/>"));
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(xml.matches("</testcase>").count(), 3);
    }
}
