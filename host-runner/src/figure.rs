//! Figures as PNG and SVG: panels of lines, points and segments, drawn with plotters and
//! a bundled DejaVu Sans (no system font library is needed), written atomically.

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// What a series draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark {
    /// A polyline through the points, in order.
    Line,
    /// Filled circles of this radius (pixels).
    Points(u32),
    /// Independent segments: points 2i and 2i+1 (marching-squares contours).
    Segments,
}

/// One data series of a panel.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend entry (empty: none).
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// How they are drawn.
    pub mark: Mark,
    /// Colour (RGB).
    pub color: (u8, u8, u8),
}

impl Series {
    /// A series.
    pub fn new(name: &str, points: Vec<(f64, f64)>, mark: Mark, color: (u8, u8, u8)) -> Self {
        Series {
            name: name.to_string(),
            points,
            mark,
            color,
        }
    }
}

/// One panel: axes, labels and its series.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// x range; `None`: from the data.
    pub x_range: Option<(f64, f64)>,
    /// y range; `None`: from the data.
    pub y_range: Option<(f64, f64)>,
    /// The series, drawn in order.
    pub series: Vec<Series>,
    /// Filled rectangles drawn under the series (a heat map).
    pub cells: Vec<Cell>,
}

/// A filled rectangle [x₀, x₁] × [y₀, y₁].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    /// x extent.
    pub x: (f64, f64),
    /// y extent.
    pub y: (f64, f64),
    /// Fill colour.
    pub color: (u8, u8, u8),
}

/// A sequential map for values in [lo, hi]: pale yellow through orange to dark red
/// (clipped outside), for quantities with a natural zero such as a dominant α.
pub fn sequential(v: f64, lo: f64, hi: f64) -> (u8, u8, u8) {
    let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    let stops = [
        (255.0, 255.0, 204.0),
        (253.0, 141.0, 60.0),
        (128.0, 0.0, 38.0),
    ];
    let (a, b, u) = if t < 0.5 {
        (stops[0], stops[1], t * 2.0)
    } else {
        (stops[1], stops[2], t * 2.0 - 1.0)
    };
    let mix = |p: f64, q: f64| (p + (q - p) * u).round() as u8;
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colours for curves, distinguishable in print (matplotlib's tab10).
pub const TAB10: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

const FONT: &str = "sans-serif";

fn font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../assets/DejaVuSans.ttf"),
        )
        .is_ok()
    });
    ok.then_some(())
        .ok_or_else(|| anyhow!("the bundled font could not be loaded"))
}

fn range(panel: &Panel, x: bool) -> (f64, f64) {
    let fixed = if x { panel.x_range } else { panel.y_range };
    if let Some(r) = fixed {
        return r;
    }
    let cells = panel
        .cells
        .iter()
        .flat_map(|c| if x { [c.x.0, c.x.1] } else { [c.y.0, c.y.1] });
    let vals = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| if x { p.0 } else { p.1 }))
        .chain(cells)
        .filter(|v| v.is_finite());
    let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = range(panel, true);
    let (y0, y1) = range(panel, false);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 18))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| anyhow!("plot: {e}"))?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .label_style((FONT, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| anyhow!("plot: {e}"))?;
    chart
        .draw_series(panel.cells.iter().map(|c| {
            Rectangle::new(
                [(c.x.0, c.y.0), (c.x.1, c.y.1)],
                RGBColor(c.color.0, c.color.1, c.color.2).filled(),
            )
        }))
        .map_err(|e| anyhow!("plot: {e}"))?;
    let mut legend = false;
    for s in &panel.series {
        let c = RGBColor(s.color.0, s.color.1, s.color.2);
        let pts = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite());
        let anno = match s.mark {
            Mark::Line => chart.draw_series(LineSeries::new(pts, c.stroke_width(2))),
            Mark::Points(r) => chart.draw_series(pts.map(|p| Circle::new(p, r, c.filled()))),
            Mark::Segments => chart.draw_series(
                s.points
                    .chunks_exact(2)
                    .map(|w| PathElement::new(vec![w[0], w[1]], c.stroke_width(2))),
            ),
        }
        .map_err(|e| anyhow!("plot: {e}"))?;
        if !s.name.is_empty() {
            legend = true;
            anno.label(s.name.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
            });
        }
    }
    if legend {
        chart
            .configure_series_labels()
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow!("plot: {e}"))?;
    }
    Ok(())
}

fn draw_all<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    panels: &[Panel],
    cols: usize,
    note: Option<&str>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("plot: {e}"))?;
    let body = match note {
        Some(text) => {
            let (top, rest) = root.split_vertically(28);
            top.draw_text(text, &(FONT, 16).into_font().color(&RED), (10, 6))
                .map_err(|e| anyhow!("plot: {e}"))?;
            rest
        }
        None => root,
    };
    let rows = panels.len().div_ceil(cols);
    let areas = body.split_evenly((rows, cols));
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    Ok(())
}

/// Something that draws itself on any plotters backend (both the SVG and the bitmap).
trait Drawing {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

struct Grid<'a> {
    panels: &'a [Panel],
    cols: usize,
    note: Option<&'a str>,
}

impl Drawing for Grid<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        draw_all(root, self.panels, self.cols, self.note)
    }
}

/// Renders `d` at `size` and writes `stem.png` and `stem.svg` atomically.
fn render(stem: &Path, size: (u32, u32), d: &impl Drawing) -> Result<()> {
    font()?;
    let (w, h) = size;
    let mut svg = String::new();
    d.draw(SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area())?;
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        d.draw(root.clone())?;
        root.present().map_err(|e| anyhow!("plot: {e}"))?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()?.write_image_data(&rgb)?;
    }
    crate::npz::write_atomic(&stem.with_extension("png"), &png_bytes)?;
    crate::npz::write_atomic(&stem.with_extension("svg"), svg.as_bytes())?;
    Ok(())
}

/// Draws `panels` in a grid of `cols` columns (each panel `panel_size` pixels) and writes
/// `stem.png` and `stem.svg` atomically. `note` is printed in red above the panels (a
/// quick run says so on its figures).
pub fn write(
    stem: &Path,
    panels: &[Panel],
    cols: usize,
    panel_size: (u32, u32),
    note: Option<&str>,
) -> Result<()> {
    let cols = cols.clamp(1, panels.len().max(1));
    let rows = panels.len().div_ceil(cols).max(1);
    let extra = if note.is_some() { 28 } else { 0 };
    let size = (
        panel_size.0 * cols as u32,
        panel_size.1 * rows as u32 + extra,
    );
    render(stem, size, &Grid { panels, cols, note })
}

/// One series of a 3-D scatter: name, points (x, y, z), colour.
pub type Series3 = (String, Vec<(f64, f64, f64)>, (u8, u8, u8));

/// A 3-D scatter: points (x, y, z) per series.
#[derive(Clone, Debug, Default)]
pub struct Scatter3 {
    /// Title.
    pub title: String,
    /// Axis labels x, y, z.
    pub labels: [String; 3],
    /// (name, points, colour) per series.
    pub series: Vec<Series3>,
    /// Axis ranges x, y, z.
    pub ranges: [(f64, f64); 3],
    /// Printed in red above the chart.
    pub note: Option<String>,
}

impl Drawing for Scatter3 {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| anyhow!("plot: {e}"))?;
        let body = match &self.note {
            Some(text) => {
                let (top, rest) = root.split_vertically(28);
                top.draw_text(text, &(FONT, 16).into_font().color(&RED), (10, 6))
                    .map_err(|e| anyhow!("plot: {e}"))?;
                rest
            }
            None => root,
        };
        let [x, y, z] = self.ranges;
        let mut chart = ChartBuilder::on(&body)
            .caption(&self.title, (FONT, 18))
            .margin(16)
            .build_cartesian_3d(x.0..x.1, y.0..y.1, z.0..z.1)
            .map_err(|e| anyhow!("plot: {e}"))?;
        chart.with_projection(|mut pb| {
            pb.yaw = 0.6;
            pb.pitch = 0.35;
            pb.scale = 0.85;
            pb.into_matrix()
        });
        chart
            .configure_axes()
            .label_style((FONT, 12))
            .light_grid_style(BLACK.mix(0.1))
            .max_light_lines(4)
            .draw()
            .map_err(|e| anyhow!("plot: {e}"))?;
        for (name, pts, c) in &self.series {
            let col = RGBColor(c.0, c.1, c.2);
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 2, col.filled())))
                .map_err(|e| anyhow!("plot: {e}"))?
                .label(name.as_str())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, col.filled()));
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow!("plot: {e}"))?;
        // The axes' names, which plotters' 3-D mesh does not draw.
        let names = format!(
            "x: {}   y: {}   z: {}",
            self.labels[0], self.labels[1], self.labels[2]
        );
        body.draw_text(&names, &(FONT, 14).into_font().color(&BLACK), (16, 36))
            .map_err(|e| anyhow!("plot: {e}"))?;
        Ok(())
    }
}

/// Writes a 3-D scatter as `stem.png` and `stem.svg`.
pub fn write_3d(stem: &Path, fig: &Scatter3, size: (u32, u32)) -> Result<()> {
    render(stem, size, fig)
}
