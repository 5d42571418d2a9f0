//! Plots as SVG text, rendered in Rust with plotters: points (and, over time, the
//! line through them) of one metric. No text from records goes into a plot: titles
//! and axis names are HTML around it (escaped there), the plot holds only numbers.

use plotters::prelude::*;

/// Width and height of every plot, in SVG user units.
const SIZE: (u32, u32) = (480, 300);

/// How the points are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A metric against a swept param: points only.
    Points,
    /// A metric over time: points joined in order of x.
    Line,
}

/// An SVG plot of `points` (non-finite ones dropped); `None` when no point is left.
pub fn svg(points: &[(f64, f64)], shape: Shape) -> Option<String> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.is_empty() {
        return None;
    }
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = String::new();
    draw(&mut out, &pts, shape).ok()?;
    // Inline in HTML an <svg> is in the SVG namespace without naming it: no URL at all.
    Some(out.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1))
}

/// A range around the values, never empty (plotters needs width).
fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    (lo - pad)..(hi + pad)
}

fn draw<'a>(
    out: &'a mut String,
    pts: &[(f64, f64)],
    shape: Shape,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    {
        let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(
                range(pts.iter().map(|p| p.0)),
                range(pts.iter().map(|p| p.1)),
            )?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .label_style(("sans-serif", 11))
            .draw()?;
        if shape == Shape::Line {
            chart.draw_series(LineSeries::new(pts.iter().copied(), BLUE.stroke_width(2)))?;
        }
        chart.draw_series(
            pts.iter()
                .map(|p| Circle::new(*p, 4, BLUE.mix(0.8).filled())),
        )?;
        root.present()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_points_and_lines() {
        let s = svg(&[(1.0, 2.0), (2.0, 3.0), (f64::NAN, 1.0)], Shape::Line).unwrap();
        assert!(s.starts_with("<svg") && !s.contains("http"), "{s}");
        assert!(s.contains("<circle") && s.contains("<polyline"), "{s}");
        assert!(
            svg(&[(5.0, 5.0)], Shape::Points).is_some(),
            "one point still plots"
        );
        assert!(svg(&[(f64::NAN, 1.0)], Shape::Points).is_none());
    }
}
