//! Output for people and machines: tables on a TTY, plain lines when piped, JSON on request.
//! JSON and tables go to stdout; diagnostics go to stderr.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Whether stdout is a terminal (people) rather than a pipe or file (programs).
pub fn stdout_is_tty() -> bool {
    io::stdout().is_terminal()
}

/// Whether both ends of an interactive session are terminals (safe to ask a question).
pub fn interactive() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Prints text on stdout as it is.
pub fn print_text(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Whether an error is stdout closed under us (`obsctl plan | head -1`): the reader has what it
/// wanted, so the command ends quietly with exit 0, as ripgrep does.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// `println!` panics when stdout is a closed pipe; that panic ends the process with exit 0 and
/// no message, any other panic is reported as usual.
pub fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// Prints a value as YAML on stdout (`-o yaml`: the same document as `-o json`).
pub fn print_yaml(value: &impl serde::Serialize) -> io::Result<()> {
    let text = yaml_serde::to_string(value).map_err(io::Error::other)?;
    print_text(&text)
}

/// `-o json` or `-o yaml`: one document, the same fields.
pub fn print_document(yaml: bool, value: &impl serde::Serialize) -> io::Result<()> {
    if yaml {
        print_yaml(value)
    } else {
        print_json(value)
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)
}

/// A plain text table: a header row and aligned columns. On a TTY the header is bold.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Renders the table; `bold` puts ANSI bold on the header.
    pub fn render(&self, bold: bool) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate().take(columns) {
                if i + 1 == columns {
                    s.push_str(cell);
                } else {
                    s.push_str(&format!("{cell:<width$}  ", width = widths[i]));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = String::new();
        let head = line(&self.header);
        if bold {
            out.push_str(&format!("\x1b[1m{head}\x1b[0m\n"));
        } else {
            out.push_str(&head);
            out.push('\n');
        }
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// Prints to stdout, bold header only on a TTY.
    pub fn print(&self) -> io::Result<()> {
        io::stdout()
            .lock()
            .write_all(self.render(stdout_is_tty()).as_bytes())
    }
}

/// A hidden file beside `path` for writing before a rename, so an interrupted run leaves the old
/// file or none, never half of one.
pub fn staging_path(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    dir.join(format!(".{name}.obsctl-{}.tmp", std::process::id()))
}

/// Writes the file whole or not at all: the staging file, synced, then a rename.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = staging_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verify.xml");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no staging file left"
        );
        let missing = dir.path().join("no/such/dir/verify.xml");
        assert!(write_atomically(&missing, b"x").is_err());
    }

    #[test]
    fn columns_are_aligned_to_the_widest_cell() {
        let mut t = Table::new(["NAME", "VERSION"]);
        t.row(["kube-prometheus-stack", "88.5.3"]);
        t.row(["loki", "18.11.0"]);
        assert_eq!(
            t.render(false),
            "NAME                   VERSION\nkube-prometheus-stack  88.5.3\nloki                   18.11.0\n"
        );
    }
}
