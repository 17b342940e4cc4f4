//! The part map: one cell per part of a multipart object, scaled down when there are more
//! parts than cells (a cell then shows the most telling state of its parts: failed, then
//! retrying, then in flight; done only when all are done). A single-request object gets a
//! byte gauge drawn with the same symbols. Symbols differ per state, so it reads without
//! colour: `·` pending, `▒` in flight, `█` done, `r` retrying, `x` failed.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::style;
use crate::tui::app::transfers::{ObjectRun, PartState};
use airlock_core::plan::Route;

/// The state of each of `width` cells for `parts`.
pub fn cells(parts: &[PartState], width: usize) -> Vec<PartState> {
    if parts.len() <= width {
        return parts.to_vec();
    }
    (0..width)
        .map(|cell| {
            let start = cell * parts.len() / width;
            let end = ((cell + 1) * parts.len() / width).max(start + 1);
            summarize(&parts[start..end])
        })
        .collect()
}

fn summarize(parts: &[PartState]) -> PartState {
    for state in [PartState::Failed, PartState::Retrying, PartState::InFlight] {
        if parts.contains(&state) {
            return state;
        }
    }
    if parts.iter().all(|p| *p == PartState::Done) {
        PartState::Done
    } else {
        PartState::Pending
    }
}

/// Cells of a single-request object: bytes streamed as done, the rest in the part's state.
fn gauge_cells(object: &ObjectRun, width: usize) -> Vec<PartState> {
    let state = object.parts.first().copied().unwrap_or(PartState::Pending);
    if state == PartState::Done {
        return vec![PartState::Done; width];
    }
    let done = if object.size == 0 {
        0
    } else {
        ((object.bytes.min(object.size) as u128 * width as u128) / object.size as u128) as usize
    };
    (0..width)
        .map(|i| if i < done { PartState::Done } else { state })
        .collect()
}

/// The map of an object as one line, at most `width` cells.
pub fn line(object: &ObjectRun, width: usize) -> Line<'static> {
    let states = match object.route {
        Route::Multipart => cells(&object.parts, width),
        _ => gauge_cells(object, width),
    };
    // Runs of one state become one span.
    let mut spans: Vec<Span> = Vec::new();
    let mut run: Option<(PartState, usize)> = None;
    for state in states {
        match run {
            Some((current, n)) if current == state => run = Some((current, n + 1)),
            _ => {
                if let Some((current, n)) = run {
                    spans.push(span(current, n));
                }
                run = Some((state, 1));
            }
        }
    }
    if let Some((current, n)) = run {
        spans.push(span(current, n));
    }
    Line::from(spans)
}

fn span(state: PartState, n: usize) -> Span<'static> {
    let (symbol, color) = style::part(state);
    Span::styled(symbol.repeat(n), Style::new().fg(color))
}

#[cfg(test)]
mod tests {
    use super::*;
    use PartState::*;

    #[test]
    fn one_cell_per_part_when_they_fit() {
        assert_eq!(
            cells(&[Done, InFlight, Pending], 10),
            [Done, InFlight, Pending]
        );
    }

    #[test]
    fn scaled_cells_show_the_most_telling_state() {
        let mut parts = vec![Done; 100];
        parts[10] = InFlight;
        parts[55] = Retrying;
        parts[56] = Failed;
        parts[90..].fill(Pending);
        let map = cells(&parts, 10);
        assert_eq!(map.len(), 10);
        assert_eq!(map[0], Done);
        assert_eq!(map[1], InFlight);
        assert_eq!(map[5], Failed);
        assert_eq!(map[9], Pending);
    }
}
