//! The throughput chart: GET and PUT MB/s over the last two minutes from the stats' samples
//! (time is the run's, injected), smoothed over a few samples so part-sized steps read as a
//! rate, with a round axis top and a legend (in the title when the box is small).

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};

use super::style;
use crate::tui::app::transfers::{Phase, Transfers};
use airlock_core::progress::Series;

/// The chart's time span.
const CHART_SPAN: Duration = Duration::from_secs(120);
/// Samples averaged per point (about the window of the rates shown beside the chart).
const SMOOTHING: usize = 5;

/// Trailing moving average of the rates.
pub fn smooth(series: &Series) -> Series {
    series
        .iter()
        .enumerate()
        .map(|(i, &(t, _))| {
            let window = &series[i.saturating_sub(SMOOTHING - 1)..=i];
            let mean = window.iter().map(|&(_, y)| y).sum::<f64>() / window.len() as f64;
            (t, mean)
        })
        .collect()
}

pub fn render(transfers: &Transfers, frame: &mut Frame, area: Rect) {
    let (get, put) = transfers.stats.series(CHART_SPAN);
    let (get, put) = (smooth(&get), smooth(&put));
    // The chart's own legend needs room; on small screens the title carries it.
    let legend_fits = area.height >= 12 && area.width >= 50;
    let mut title = vec![Span::styled(" Throughput MB/s ", style::bold())];
    if !legend_fits {
        title.extend([
            Span::styled("GET", Style::new().fg(Color::Cyan)),
            Span::raw(" "),
            Span::styled("PUT", Style::new().fg(Color::Green)),
            Span::raw(" "),
        ]);
    }
    let block = Block::bordered()
        .border_style(style::border(false))
        .title(Line::from(title));
    let Some(&(t_end, _)) = get.last() else {
        let text = if matches!(transfers.phase, Phase::Finished(_)) {
            "\ntoo short to chart"
        } else {
            "\nno samples yet"
        };
        frame.render_widget(
            Paragraph::new(text)
                .alignment(Alignment::Center)
                .block(block),
            area,
        );
        return;
    };
    let t_start = t_end - CHART_SPAN.as_secs_f64();
    let peak = get
        .iter()
        .chain(put.iter())
        .map(|&(_, y)| y)
        .fold(0.0_f64, f64::max);
    let top = nice_ceiling(peak);
    let datasets = vec![
        Dataset::default()
            .name("GET")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::Cyan))
            .data(&get),
        Dataset::default()
            .name("PUT")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::Green))
            .data(&put),
    ];
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([t_start, t_end])
                .labels(["-2m", "-1m", "now"])
                .style(style::dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(["0".to_string(), format!("{top:.0}")])
                .style(style::dim()),
        )
        .legend_position(legend_fits.then_some(ratatui::widgets::LegendPosition::TopLeft))
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Ratio(1, 2),
            ratatui::layout::Constraint::Ratio(1, 2),
        ));
    frame.render_widget(chart, area);
}

/// A round axis top above `peak`: 1, 2, 5 x 10^n.
fn nice_ceiling(peak: f64) -> f64 {
    if peak <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(peak.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&v| v >= peak)
        .unwrap_or(10.0 * magnitude)
}
