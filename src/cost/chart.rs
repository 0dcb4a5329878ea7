//! `--chart FILE`: monthly costs, SVG or PNG by the file's extension. One estimate is a bar chart,
//! each bar stacked by cost category (self-hosted: each component's storage, compute and, when the
//! profile sets it, operations; vendors: their bill lines), one colour per category across every
//! bar, named in the legend. A `--scale` sweep is a line chart, one line per option (self-hosted
//! and every vendor), on log axes when the values span a decade or more.
//!
//! Text needs a font in PNG (and for layout in SVG): the Go font (Go-Regular.ttf, BSD-3-Clause,
//! `fonts/LICENSE`) is embedded, so the chart looks the same on every machine.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::catalog::Quantity;
use super::report::usd;
use super::scale::{Point, Sweep};
use super::Estimate;

const FONT: &[u8] = include_bytes!("fonts/Go-Regular.ttf");
const SIZE: (u32, u32) = (1100, 620);
/// The legend's column on the right.
const LEGEND_WIDTH: u32 = 250;

/// The file kinds `--chart` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartFormat {
    Svg,
    Png,
}

impl ChartFormat {
    /// By extension (case-insensitive); None for anything else.
    pub fn for_path(path: &Path) -> Option<ChartFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Some(ChartFormat::Svg),
            "png" => Some(ChartFormat::Png),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("`{0}` is neither .svg nor .png; name the chart file `costs.svg` or `costs.png`")]
    Format(String),
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("writing `{path}`")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// One bar: its label, the parts it stacks (by category) and the text above it.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub segments: Vec<(Category, f64)>,
    pub total: String,
}

/// What a part of a bill pays for; one colour each, the same on every bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Storage,
    Compute,
    Operations,
    PerHost,
    Metrics,
    Logs,
    Traces,
    DataIngest,
    Users,
    PlatformFee,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Storage,
        Category::Compute,
        Category::Operations,
        Category::PerHost,
        Category::Metrics,
        Category::Logs,
        Category::Traces,
        Category::DataIngest,
        Category::Users,
        Category::PlatformFee,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Storage => "storage (volumes, buckets)",
            Category::Compute => "compute (pod requests)",
            Category::Operations => "operations (people)",
            Category::PerHost => "per host (infrastructure, APM)",
            Category::Metrics => "metrics (series)",
            Category::Logs => "logs (ingest, indexing, retention)",
            Category::Traces => "traces (spans, retention)",
            Category::DataIngest => "data ingest (all signals)",
            Category::Users => "users (seats)",
            Category::PlatformFee => "platform fee",
        }
    }

    /// Distinct colours, each dark enough for white text.
    fn color(self) -> RGBColor {
        match self {
            Category::Storage => RGBColor(31, 119, 180),
            Category::Compute => RGBColor(0, 128, 128),
            Category::Operations => RGBColor(140, 86, 75),
            Category::PerHost => RGBColor(255, 127, 14),
            Category::Metrics => RGBColor(44, 160, 44),
            Category::Logs => RGBColor(148, 103, 189),
            Category::Traces => RGBColor(214, 39, 40),
            Category::DataIngest => RGBColor(188, 189, 34),
            Category::Users => RGBColor(227, 119, 194),
            Category::PlatformFee => RGBColor(127, 127, 127),
        }
    }

    /// The category of a vendor bill line, by what it bills.
    pub fn of(kind: Quantity) -> Category {
        match kind {
            Quantity::Month => Category::PlatformFee,
            Quantity::Hosts => Category::PerHost,
            Quantity::Users => Category::Users,
            Quantity::ActiveSeries | Quantity::MetricGb => Category::Metrics,
            Quantity::LogGb | Quantity::LogEvents => Category::Logs,
            Quantity::TraceGb => Category::Traces,
            Quantity::IngestGb => Category::DataIngest,
        }
    }
}

/// The bars of an estimate: self-hosted as profiled, at the recommended sizes when that differs,
/// then every vendor.
pub fn bars(e: &Estimate) -> Vec<Bar> {
    let mut bars = vec![Bar {
        label: "self-hosted (profile)".into(),
        segments: self_hosted_segments(e, e.storage_monthly_usd),
        total: usd(e.self_hosted_monthly_usd),
    }];
    if (e.self_hosted_recommended_monthly_usd - e.self_hosted_monthly_usd).abs() >= 0.005 {
        bars.push(Bar {
            label: "self-hosted (recommended)".into(),
            segments: self_hosted_segments(e, e.storage_recommended_monthly_usd),
            total: usd(e.self_hosted_recommended_monthly_usd),
        });
    }
    for v in &e.comparison {
        let mut segments: Vec<(Category, f64)> = Vec::new();
        for l in &v.lines {
            let Some(x) = l.usd else { continue };
            let c = Category::of(l.kind);
            match segments.iter_mut().find(|(k, _)| *k == c) {
                Some((_, sum)) => *sum += x,
                None => segments.push((c, x)),
            }
        }
        segments.sort_by_key(|(c, _)| *c);
        bars.push(Bar {
            label: v.name.clone(),
            segments,
            total: if v.incomplete {
                format!("≥ {}", usd(v.monthly_usd))
            } else {
                usd(v.monthly_usd)
            },
        });
    }
    for bar in &mut bars {
        bar.segments.retain(|(_, x)| *x > 0.0);
    }
    bars
}

/// Storage (volumes and buckets), compute, and operations when the profile sets it.
fn self_hosted_segments(e: &Estimate, storage: f64) -> Vec<(Category, f64)> {
    let mut segments = vec![
        (Category::Storage, storage),
        (Category::Compute, e.compute.monthly_usd),
    ];
    if let Some(o) = e.operations {
        segments.push((Category::Operations, o.monthly_usd));
    }
    segments
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is ours and valid (a test draws with it); a failure leaves plotters without
        // a font, and drawing then reports an error instead of panicking.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draws the bar chart of one estimate and writes it to `path` (through a temporary file in the
/// same directory, so a failure never leaves half a chart behind).
pub fn write(e: &Estimate, path: &Path) -> Result<(), ChartError> {
    let bars = bars(e);
    let title = format!("Monthly cost, profile {}", e.profile);
    let footnote = format!(
        "self-hosted: storage + compute (requests × {} h × node overhead {}){}; vendors: list prices from the pricing catalog",
        super::compare::HOURS_PER_MONTH,
        e.compute.node_overhead.value,
        if e.operations.is_some() {
            " + operations"
        } else {
            ", people not counted"
        },
    );
    write_with(
        path,
        &Drawing::Bars {
            title: &title,
            bars: &bars,
            footnote: &footnote,
        },
    )
}

/// Draws a `--scale` sweep as lines (one per option) and writes it to `path`.
pub fn write_sweep(
    profile: &str,
    sweep: &Sweep,
    points: &[(Point, Estimate)],
    path: &Path,
) -> Result<(), ChartError> {
    let series = sweep_series(points);
    let title = format!(
        "Monthly cost by workload.{}, profile {profile}",
        sweep.field
    );
    write_with(
        path,
        &Drawing::Lines {
            title: &title,
            field: sweep.field,
            series: &series,
        },
    )
}

/// One line of a sweep chart: its name and (x, USD) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Self-hosted first, then every vendor, in catalog order.
pub fn sweep_series(points: &[(Point, Estimate)]) -> Vec<Series> {
    let mut series: Vec<Series> = vec![(
        "self-hosted".to_string(),
        points
            .iter()
            .map(|(p, e)| (p.value, super::scale::self_hosted(e)))
            .collect(),
    )];
    if let Some((_, first)) = points.first() {
        for v in &first.comparison {
            series.push((
                v.name.clone(),
                points
                    .iter()
                    .filter_map(|(p, e)| {
                        e.comparison
                            .iter()
                            .find(|w| w.vendor == v.vendor)
                            .map(|w| (p.value, w.monthly_usd))
                    })
                    .collect(),
            ));
        }
    }
    series
}

enum Drawing<'a> {
    Bars {
        title: &'a str,
        bars: &'a [Bar],
        footnote: &'a str,
    },
    Lines {
        title: &'a str,
        field: &'a str,
        series: &'a [Series],
    },
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, d: &Drawing) -> Result<(), ChartError> {
    match d {
        Drawing::Bars {
            title,
            bars,
            footnote,
        } => draw_bars(root, title, bars, footnote),
        Drawing::Lines {
            title,
            field,
            series,
        } => draw_lines(root, title, field, series),
    }
}

fn write_with(path: &Path, d: &Drawing) -> Result<(), ChartError> {
    let format = ChartFormat::for_path(path)
        .ok_or_else(|| ChartError::Format(path.display().to_string()))?;
    register_font();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("chart");
    // The PNG encoder picks the format by extension, so the temporary name keeps it.
    let ext = if format == ChartFormat::Png {
        "png"
    } else {
        "svg"
    };
    let tmp = dir.join(format!(".{name}.{}.tmp.{ext}", std::process::id()));
    let write_err = |source: std::io::Error| ChartError::Write {
        path: path.display().to_string(),
        source,
    };
    let drawn = match format {
        ChartFormat::Svg => {
            let mut svg = String::new();
            draw(
                SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(),
                d,
            )
            .and_then(|()| std::fs::write(&tmp, svg).map_err(write_err))
        }
        // The bitmap backend encodes and writes the file when the drawing is presented, and
        // words its I/O errors as drawing errors: whether the file can be written is checked
        // first, so that failure reads as it does for SVG.
        ChartFormat::Png => std::fs::File::create(&tmp)
            .map_err(write_err)
            .and_then(|_| draw(BitMapBackend::new(&tmp, SIZE).into_drawing_area(), d)),
    };
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_err(e)
    })
}

/// `$3,701` for labels inside bars, where cents are noise.
fn whole_dollars(x: f64) -> String {
    usd(x.round()).trim_end_matches(".00").to_string()
}

/// One per line of a sweep chart (self-hosted and every vendor).
const COLORS: [RGBColor; 16] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 128),
    RGBColor(128, 0, 0),
    RGBColor(0, 128, 128),
    RGBColor(128, 128, 0),
    RGBColor(75, 0, 130),
    RGBColor(205, 92, 0),
];

/// The categories some bar uses, in one order: the legend, one colour each, the same across
/// bars (logs are one colour on every bar).
pub fn categories(bars: &[Bar]) -> Vec<Category> {
    Category::ALL
        .into_iter()
        .filter(|c| bars.iter().any(|b| b.segments.iter().any(|(k, _)| k == c)))
        .collect()
}

/// The bars' axis: logarithmic, because the self-hosted storage bill is two or three orders of
/// magnitude below the vendors' and vanishes on a linear one. From $1 (or the smallest part)
/// to above the tallest bar, with room for the totals.
fn axis(bars: &[Bar]) -> (f64, f64) {
    let totals = bars
        .iter()
        .map(|b| b.segments.iter().map(|(_, x)| x).sum::<f64>());
    let max = totals.clone().fold(0.0, f64::max);
    let min = totals.filter(|t| *t > 0.0).fold(f64::INFINITY, f64::min);
    let bottom = if min.is_finite() {
        10f64.powf((min / 2.0).log10().floor()).min(1.0)
    } else {
        1.0
    };
    let top = if max > 0.0 { max * 3.0 } else { 10.0 };
    (bottom, top.max(bottom * 10.0))
}

fn draw_bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    bars: &[Bar],
    footnote: &str,
) -> Result<(), ChartError> {
    let err =
        |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| ChartError::Draw(e.to_string());
    root.fill(&WHITE).map_err(err)?;
    let categories = categories(bars);
    let (bottom, top) = axis(bars);
    let n = bars.len().max(1) as f64;
    // The legend takes a column on the right: one row per category.
    let (plot, legend) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..n, (bottom..top).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .x_labels(0)
        .y_desc("USD per month (log scale)")
        .y_label_formatter(&|y| whole_dollars(*y))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;

    let small =
        TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    let total_style =
        TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    let (plot_w, _) = plot.dim_in_pixel();
    let slot = (plot_w as f64 - 130.0) / n;
    for (i, bar) in bars.iter().enumerate() {
        let (x0, x1) = (i as f64 + 0.15, i as f64 + 0.85);
        let mut y = 0f64;
        for (category, value) in &bar.segments {
            // Stacked in dollars from the axis' floor: on a log axis the lower parts look
            // taller than their share, so each part's figure is written in it when it fits.
            let (from, to) = (y.max(bottom), (y + value).max(bottom));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, from), (x1, to)],
                    category.color().filled(),
                )))
                .map_err(err)?;
            // Name the part inside it when it is tall and wide enough to read.
            let (left, lower) = chart.backend_coord(&(x0, from));
            let (right, upper) = chart.backend_coord(&(x1, to));
            let text = whole_dollars(*value);
            if lower - upper >= 16 && (text.chars().count() as i32) * 7 <= right - left {
                plot.draw(&Text::new(
                    text,
                    ((left + right) / 2, (lower + upper) / 2),
                    small.color(&WHITE),
                ))
                .map_err(err)?;
            }
            y += value;
        }
        let (center, base) = chart.backend_coord(&(i as f64 + 0.5, bottom));
        let (_, summit) = chart.backend_coord(&(i as f64 + 0.5, y.max(bottom)));
        plot.draw(&Text::new(
            bar.total.clone(),
            (center, summit - 4),
            total_style.clone(),
        ))
        .map_err(err)?;
        // A label wider than its slot gets a smaller font, so it never runs into the next one.
        let size = if bar.label.chars().count() as f64 * 7.5 > slot {
            11
        } else {
            14
        };
        let label_style = TextStyle::from(("sans-serif", size).into_font())
            .pos(Pos::new(HPos::Center, VPos::Top));
        plot.draw(&Text::new(
            bar.label.clone(),
            (center, base + 8),
            label_style,
        ))
        .map_err(err)?;
    }
    let legend_text = TextStyle::from(("sans-serif", 13).into_font());
    legend
        .draw(&Text::new("cost categories", (10, 60), legend_text.clone()))
        .map_err(err)?;
    for (k, category) in categories.iter().enumerate() {
        let y = 84 + 22 * k as i32;
        legend
            .draw(&Rectangle::new(
                [(10, y), (24, y + 14)],
                category.color().filled(),
            ))
            .map_err(err)?;
        legend
            .draw(&Text::new(category.name(), (32, y), legend_text.clone()))
            .map_err(err)?;
    }
    draw_footnote(&root, footnote)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Roughly how wide text is drawn in the embedded font (an average glyph is ~0.55 em).
fn text_width(text: &str, size: u32) -> i32 {
    (text.chars().count() as f64 * size as f64 * 0.55).ceil() as i32
}

fn draw_err<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// A grey line at the bottom, shrunk to fit the canvas.
fn draw_footnote<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
) -> Result<(), ChartError> {
    let mut size = 12;
    while size > 8 && text_width(text, size) > SIZE.0 as i32 - 40 {
        size -= 1;
    }
    root.draw(&Text::new(
        text.to_string(),
        (20, SIZE.1 as i32 - 18),
        TextStyle::from(("sans-serif", size).into_font()).color(&RGBColor(90, 90, 90)),
    ))
    .map_err(draw_err)
}

/// One line per option; log axes when the values span ten times or more (the x axis from the
/// swept values, the y axis from the bills, which span orders of magnitude between self-hosted
/// and per-host vendor prices).
fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    field: &str,
    series: &[Series],
) -> Result<(), ChartError> {
    root.fill(&WHITE).map_err(draw_err)?;
    let xs = series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x));
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y));
    let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let (y_min, y_max) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
    if !(x_min.is_finite() && x_max.is_finite() && y_min.is_finite() && y_max.is_finite()) {
        return Err(ChartError::Draw("no points to draw".into()));
    }
    let (plot, legend) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let log_x = x_min > 0.0 && x_max / x_min >= 10.0;
    let log_y = y_min > 0.0 && y_max / y_min >= 10.0;
    let x_range = if x_max > x_min {
        x_min..x_max
    } else {
        x_min - 1.0..x_max + 1.0
    };
    let y_range = if log_y {
        y_min / 1.5..y_max * 1.5
    } else {
        0.0..(y_max * 1.15).max(1.0)
    };
    let x_desc = format!(
        "workload.{field}{}",
        if log_x { " (log scale)" } else { "" }
    );
    let y_desc = format!("USD per month{}", if log_y { " (log scale)" } else { "" });
    let mut builder = ChartBuilder::on(&plot);
    builder
        .caption(title, ("sans-serif", 22))
        .margin(20)
        .margin_bottom(30)
        .x_label_area_size(50)
        .y_label_area_size(100);
    macro_rules! plot_lines {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_desc.as_str())
                .y_desc(y_desc.as_str())
                .y_label_formatter(&|y| whole_dollars(*y))
                .x_label_formatter(&|x| super::report::count(*x))
                .label_style(("sans-serif", 13))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(draw_err)?;
            for (k, (_, points)) in series.iter().enumerate() {
                let color = COLORS[k % COLORS.len()];
                chart
                    .draw_series(LineSeries::new(
                        points.iter().copied(),
                        color.stroke_width(3),
                    ))
                    .map_err(draw_err)?;
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(draw_err)?;
            }
        }};
    }
    // On log axes plotters labels only powers of ten, which leaves a sweep of 15..500 with one
    // labelled tick: label the swept values themselves, and the bills at 1-2-5 steps.
    let x_ticks = swept_values(series);
    let y_ticks = one_two_five(y_range.start, y_range.end);
    match (log_x, log_y) {
        (true, true) => plot_lines!(builder
            .build_cartesian_2d(
                x_range.log_scale().with_key_points(x_ticks),
                y_range.log_scale().with_key_points(y_ticks)
            )
            .map_err(draw_err)?),
        (true, false) => plot_lines!(builder
            .build_cartesian_2d(x_range.log_scale().with_key_points(x_ticks), y_range)
            .map_err(draw_err)?),
        (false, true) => plot_lines!(builder
            .build_cartesian_2d(x_range, y_range.log_scale().with_key_points(y_ticks))
            .map_err(draw_err)?),
        (false, false) => plot_lines!(builder
            .build_cartesian_2d(x_range, y_range)
            .map_err(draw_err)?),
    }
    let legend_text = TextStyle::from(("sans-serif", 13).into_font());
    legend
        .draw(&Text::new("options", (10, 60), legend_text.clone()))
        .map_err(draw_err)?;
    for (k, (name, _)) in series.iter().enumerate() {
        let y = 84 + 22 * k as i32;
        let color = COLORS[k % COLORS.len()];
        legend
            .draw(&PathElement::new(
                vec![(10, y + 7), (34, y + 7)],
                color.stroke_width(3),
            ))
            .map_err(draw_err)?;
        legend
            .draw(&Text::new(name.clone(), (42, y), legend_text.clone()))
            .map_err(draw_err)?;
    }
    draw_footnote(
        &root,
        "self-hosted: storage at the recommended volume sizes + compute (+ operations when set); vendors: list prices from the pricing catalog",
    )?;
    root.present().map_err(draw_err)?;
    Ok(())
}

/// The x values of a sweep, in order, once each.
fn swept_values(series: &[Series]) -> Vec<f64> {
    let mut xs: Vec<f64> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(x, _)| *x))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs
}

/// 1, 2 and 5 times each power of ten between `low` and `high` (both > 0).
fn one_two_five(low: f64, high: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powf(low.log10().floor());
    while decade <= high {
        for m in [1.0, 2.0, 5.0] {
            let t = m * decade;
            if (low..=high).contains(&t) {
                ticks.push(t);
            }
        }
        decade *= 10.0;
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> Estimate {
        let profile = crate::profile::load("production").unwrap();
        let rendered = crate::render::render(&profile).unwrap();
        let catalog = crate::cost::catalog::Catalog::builtin();
        crate::cost::estimate(&profile, &rendered, &catalog).unwrap()
    }

    #[test]
    fn one_colour_per_category_across_every_bar() {
        let bars = bars(&production());
        let categories = categories(&bars);
        for (category, _) in bars.iter().flat_map(|b| &b.segments) {
            assert!(categories.contains(category), "{category:?}");
        }
        let colours: std::collections::BTreeSet<_> = Category::ALL
            .iter()
            .map(|c| {
                let RGBColor(r, g, b) = c.color();
                (r, g, b)
            })
            .collect();
        assert_eq!(
            colours.len(),
            Category::ALL.len(),
            "two categories share a colour"
        );
        // Datadog's ingest and indexing lines are one `logs` part, the same category as
        // Grafana Cloud's logs.
        let datadog = bars.iter().find(|b| b.label == "Datadog").unwrap();
        let logs = datadog
            .segments
            .iter()
            .filter(|(c, _)| *c == Category::Logs)
            .count();
        assert_eq!(logs, 1, "{:?}", datadog.segments);
    }

    #[test]
    fn the_self_hosted_bar_stacks_storage_and_compute_to_its_total() {
        let e = production();
        let bars = bars(&e);
        let own = &bars[0];
        assert_eq!(own.label, "self-hosted (profile)");
        let parts: Vec<Category> = own.segments.iter().map(|(c, _)| *c).collect();
        assert_eq!(parts, [Category::Storage, Category::Compute]);
        let sum: f64 = own.segments.iter().map(|(_, x)| x).sum();
        assert!((sum - e.self_hosted_monthly_usd).abs() < 0.01, "{sum}");
        assert!(e.compute.monthly_usd > 0.0);
    }

    #[test]
    fn the_log_axis_shows_the_smallest_bar_and_the_tallest() {
        let bars = bars(&production());
        let totals: Vec<f64> = bars
            .iter()
            .map(|b| b.segments.iter().map(|(_, x)| x).sum())
            .collect();
        let (bottom, top) = axis(&bars);
        let smallest = totals.iter().cloned().fold(f64::INFINITY, f64::min);
        let tallest = totals.iter().cloned().fold(0.0, f64::max);
        // The smallest bar rises at least a decade above the floor; the totals fit.
        assert!(
            smallest / bottom >= 10.0,
            "{smallest} over a floor of {bottom}"
        );
        assert!(top > tallest * 2.0, "{top} vs {tallest}");
    }

    #[test]
    fn log_axes_label_the_swept_values_and_one_two_five_dollar_steps() {
        assert_eq!(
            one_two_five(150.0, 30_000.0),
            [200.0, 500.0, 1e3, 2e3, 5e3, 1e4, 2e4]
        );
        let series: Vec<Series> = vec![
            ("a".into(), vec![(50.0, 1.0), (15.0, 2.0)]),
            ("b".into(), vec![(15.0, 3.0), (500.0, 4.0)]),
        ];
        assert_eq!(swept_values(&series), [15.0, 50.0, 500.0]);
    }

    #[test]
    fn a_sweep_has_one_series_per_option_with_a_point_per_size() {
        let profile = crate::profile::load("production").unwrap();
        let catalog = crate::cost::catalog::Catalog::builtin();
        let sweep = crate::cost::scale::parse("hosts=15,50,150").unwrap();
        let points = crate::cost::scale::sweep(&profile, &catalog, &sweep).unwrap();
        let series = sweep_series(&points);
        let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["self-hosted", "Datadog", "New Relic", "Grafana Cloud"]
        );
        for (name, line) in &series {
            let xs: Vec<f64> = line.iter().map(|(x, _)| *x).collect();
            assert_eq!(xs, [15.0, 50.0, 150.0], "{name}");
        }
        // Datadog bills per host: its line rises with the hosts.
        let datadog = &series[1].1;
        assert!(datadog[0].1 < datadog[1].1 && datadog[1].1 < datadog[2].1);
    }
}
