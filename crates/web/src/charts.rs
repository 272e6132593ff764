//! The dashboard's charts, drawn on the server as SVG with plotters: labelled axes, a legend,
//! and the Okabe–Ito palette, which colour-blind readers can tell apart. Figures become `f64`
//! here only to place points on the drawing; every sum is made before, in exact integers.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Okabe–Ito, in the order of `../shared/design/ui.md`.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xF0, 0xE4, 0x42),
];
const INK: RGBColor = RGBColor(0x37, 0x41, 0x51);
const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (720, 280);

/// One line of a chart: its name in the legend and its points (x, y).
pub(crate) struct Line {
    pub name: String,
    pub points: Vec<(i64, f64)>,
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Draws into a fresh SVG. A drawing error leaves no chart, and so does a panic inside plotters
/// (it has some on unusual ranges): the page is served without that chart, its table still there.
fn svg(draw: impl FnOnce(&Area<'_>) -> Drawn) -> Option<String> {
    let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut out = String::new();
        let drawn = {
            let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
            draw(&root).and_then(|()| root.present())
        };
        drawn.map(|()| out).map_err(|err| err.to_string())
    }));
    match drawn {
        Ok(Ok(svg)) => Some(svg),
        Ok(Err(err)) => {
            tracing::error!(error = %err, "drawing a chart failed");
            None
        }
        Err(_) => {
            tracing::error!("drawing a chart panicked");
            None
        }
    }
}

/// Lines over `x` (days, labelled by `x_label`), from zero up.
pub(crate) fn lines(
    x: std::ops::Range<i64>,
    x_desc: &str,
    y_desc: &str,
    x_label: &dyn Fn(&i64) -> String,
    lines: &[Line],
) -> Option<String> {
    let top = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|(_, y)| *y))
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    svg(|root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(40)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x.start..x.end.max(x.start + 1), 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            // Grid lines at the labels only: the light lines between them weigh more than the data.
            .max_light_lines(1)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(x_label)
            .y_label_formatter(&|y| amount_label(*y))
            .label_style((FONT, 13).into_font().color(&INK))
            .axis_desc_style((FONT, 13).into_font().color(&INK))
            .draw()?;
        for (n, line) in lines.iter().enumerate() {
            let colour = PALETTE[n % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(line.points.iter().copied(), colour.stroke_width(2)))?
                .label(line.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 13).into_font().color(&INK))
            .background_style(WHITE.mix(0.9))
            .border_style(INK)
            .draw()
    })
}

/// Horizontal bars, one per named value, longest first as given.
pub(crate) fn bars(x_desc: &str, bars: &[(String, i64)]) -> Option<String> {
    let top = bars.iter().map(|(_, value)| *value).max().unwrap_or(0).max(1);
    let count = bars.len().max(1) as i32;
    svg(|root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(150)
            .build_cartesian_2d(0..top + top / 10 + 1, 0..count)?;
        let name = |y: &i32| {
            usize::try_from(count - 1 - *y)
                .ok()
                .and_then(|n| bars.get(n))
                .map(|(name, _)| name.clone())
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(1)
            .x_desc(x_desc)
            .x_labels(5)
            .y_labels(bars.len().max(1))
            .y_label_formatter(&name)
            .label_style((FONT, 13).into_font().color(&INK))
            .axis_desc_style((FONT, 13).into_font().color(&INK))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(n, (_, value))| {
            let y = count - 1 - n as i32;
            Rectangle::new([(0, y), (*value, y + 1)], PALETTE[0].filled())
        }))?;
        Ok(())
    })
}

/// Axis figures short enough to read: 1,260 → "1.3k".
fn amount_label(value: f64) -> String {
    if value >= 1_000_000.0 {
        format!("{:.1}M", value / 1_000_000.0)
    } else if value >= 10_000.0 {
        format!("{:.0}k", value / 1_000.0)
    } else if value >= 1_000.0 {
        format!("{:.1}k", value / 1_000.0)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_chart_has_its_axes_legend_and_palette() {
        let chart = lines(
            0..3,
            "Date (UTC)",
            "Orders",
            &|x| format!("day {x}"),
            &[
                Line {
                    name: "amazon".into(),
                    points: vec![(0, 1.0), (1, 5.0), (2, 2.0)],
                },
                Line {
                    name: "flipkart".into(),
                    points: vec![(0, 0.0), (1, 1.0), (2, 3.0)],
                },
            ],
        )
        .expect("chart");
        assert!(chart.starts_with("<svg"), "{chart}");
        for text in [
            "Date (UTC)",
            "Orders",
            "amazon",
            "flipkart",
            "day 1",
            "#0072B2",
            "#E69F00",
        ] {
            assert!(chart.contains(text), "{text} missing from {chart}");
        }
    }

    #[test]
    fn bars_are_named() {
        let chart = bars("Orders", &[("shipped".into(), 40), ("cancelled".into(), 3)]).expect("chart");
        for text in ["shipped", "cancelled", "Orders"] {
            assert!(chart.contains(text), "{text} missing from {chart}");
        }
        assert_eq!(amount_label(1_260.0), "1.3k");
        assert_eq!(amount_label(25_000.0), "25k");
        assert_eq!(amount_label(7.0), "7");
    }
}
