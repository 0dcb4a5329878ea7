//! `--chart FILE`: a bar chart of monthly costs, SVG or PNG by the file's extension. Each bar is
//! stacked by what it is made of (components for self-hosted, bill lines for vendors).
//!
//! Text needs a font in PNG (and for layout in SVG): the Go font (Go-Regular.ttf, BSD-3-Clause,
//! `fonts/LICENSE`) is embedded, so the chart looks the same on every machine.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::report::usd;
use super::Estimate;

const FONT: &[u8] = include_bytes!("fonts/Go-Regular.ttf");
const SIZE: (u32, u32) = (1100, 620);

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

/// One bar: its label, the parts it stacks and the text above it.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub segments: Vec<(String, f64)>,
    pub total: String,
}

/// The bars of an estimate: self-hosted as profiled, at the recommended sizes when that differs,
/// then every vendor.
pub fn bars(e: &Estimate) -> Vec<Bar> {
    let mut bars = vec![Bar {
        label: "self-hosted (profile)".into(),
        segments: e
            .components
            .iter()
            .map(|c| (c.sizing.component.to_string(), c.monthly_usd))
            .collect(),
        total: usd(e.self_hosted_monthly_usd),
    }];
    if (e.self_hosted_recommended_monthly_usd - e.self_hosted_monthly_usd).abs() >= 0.005 {
        bars.push(Bar {
            label: "self-hosted (recommended)".into(),
            segments: e
                .components
                .iter()
                .map(|c| (c.sizing.component.to_string(), c.recommended_monthly_usd))
                .collect(),
            total: usd(e.self_hosted_recommended_monthly_usd),
        });
    }
    for v in &e.comparison {
        bars.push(Bar {
            label: v.name.clone(),
            segments: v
                .lines
                .iter()
                .filter_map(|l| l.usd.map(|x| (l.item.clone(), x)))
                .collect(),
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

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is ours and valid (a test draws with it); a failure leaves plotters without
        // a font, and drawing then reports an error instead of panicking.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draws the chart and writes it to `path` (through a temporary file in the same directory, so
/// a failure never leaves half a chart behind).
pub fn write(e: &Estimate, path: &Path) -> Result<(), ChartError> {
    let format = ChartFormat::for_path(path)
        .ok_or_else(|| ChartError::Format(path.display().to_string()))?;
    register_font();
    let bars = bars(e);
    let title = format!("Monthly cost, profile {}", e.profile);
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
                &title,
                &bars,
            )
            .and_then(|()| std::fs::write(&tmp, svg).map_err(write_err))
        }
        // The bitmap backend encodes and writes the file when the drawing is presented, and
        // words its I/O errors as drawing errors: whether the file can be written is checked
        // first, so that failure reads as it does for SVG.
        ChartFormat::Png => std::fs::File::create(&tmp)
            .map_err(write_err)
            .and_then(|_| {
                draw(
                    BitMapBackend::new(&tmp, SIZE).into_drawing_area(),
                    &title,
                    &bars,
                )
            }),
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

/// One per cost category (the built-in catalog and components have 12 today); white text
/// reads on each.
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

/// Every segment name of the bars, in order of first appearance: one colour per cost category,
/// the same across vendors (`logs` is one colour on every bar).
pub fn categories(bars: &[Bar]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, _) in bars.iter().flat_map(|b| &b.segments) {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
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

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    bars: &[Bar],
) -> Result<(), ChartError> {
    let err =
        |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| ChartError::Draw(e.to_string());
    root.fill(&WHITE).map_err(err)?;
    let categories = categories(bars);
    let color_of = |name: &str| {
        let k = categories.iter().position(|c| c == name).unwrap_or(0);
        COLORS[k % COLORS.len()]
    };
    let (bottom, top) = axis(bars);
    let n = bars.len().max(1) as f64;
    // The legend takes a column on the right: one row per category.
    let (plot, legend) = root.split_horizontally(SIZE.0 - 200);
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
        for (name, value) in &bar.segments {
            // Stacked in dollars from the axis' floor: on a log axis the lower parts look
            // taller than their share, so each part's figure is written in it when it fits.
            let (from, to) = (y.max(bottom), (y + value).max(bottom));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, from), (x1, to)],
                    color_of(name).filled(),
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
        .draw(&Text::new("cost category", (10, 60), legend_text.clone()))
        .map_err(err)?;
    for (k, name) in categories.iter().enumerate() {
        let y = 84 + 22 * k as i32;
        legend
            .draw(&Rectangle::new(
                [(10, y), (24, y + 14)],
                color_of(name).filled(),
            ))
            .map_err(err)?;
        legend
            .draw(&Text::new(name.clone(), (32, y), legend_text.clone()))
            .map_err(err)?;
    }
    let footnote = "self-hosted: storage only (volumes and buckets); vendors: list prices from the pricing catalog";
    root.draw(&Text::new(
        footnote,
        (20, SIZE.1 as i32 - 18),
        TextStyle::from(("sans-serif", 12).into_font()).color(&RGBColor(90, 90, 90)),
    ))
    .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production_bars() -> Vec<Bar> {
        let profile = crate::profile::load("production").unwrap();
        let rendered = crate::render::render(&profile).unwrap();
        let catalog = crate::cost::catalog::Catalog::builtin();
        bars(&crate::cost::estimate(&profile, &rendered, &catalog).unwrap())
    }

    #[test]
    fn one_colour_per_category_across_every_bar() {
        let bars = production_bars();
        let categories = categories(&bars);
        // Every part of every bar has a category, and no two categories share a colour.
        for (name, _) in bars.iter().flat_map(|b| &b.segments) {
            assert!(categories.contains(name), "{name}");
        }
        assert!(categories.len() <= COLORS.len(), "{categories:?}");
        let logs = categories.iter().filter(|c| c.as_str() == "logs").count();
        assert_eq!(logs, 1, "self-hosted and vendor logs are one category");
    }

    #[test]
    fn the_log_axis_shows_the_smallest_bar_and_the_tallest() {
        let bars = production_bars();
        let totals: Vec<f64> = bars
            .iter()
            .map(|b| b.segments.iter().map(|(_, x)| x).sum())
            .collect();
        let (bottom, top) = axis(&bars);
        let smallest = totals.iter().cloned().fold(f64::INFINITY, f64::min);
        let tallest = totals.iter().cloned().fold(0.0, f64::max);
        // The self-hosted bar ($17) rises at least a decade above the floor; the totals fit.
        assert!(
            smallest / bottom >= 10.0,
            "{smallest} over a floor of {bottom}"
        );
        assert!(top > tallest * 2.0, "{top} vs {tallest}");
    }
}
