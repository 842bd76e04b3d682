//! The step (or day) table, fitted to a width: number, date and dose columns
//! keep their whole content on one line; only text columns ("Take",
//! "Reminder") wrap, at spaces. When even that does not fit, the caller
//! falls back to the stacked layout.

use comfy_table::{presets, Cell, CellAlignment, Color, ContentArrangement, Table};

use super::wrap;

/// One column: its header, its cells, and how it may bend.
pub struct Col {
    pub header: String,
    pub cells: Vec<String>,
    pub right: bool,
    /// `Some(min)` for a column that may wrap at its spaces: it is never
    /// narrower than `min` columns (or its content, when shorter), nor than
    /// its longest word, so a wrapped number is never split.
    pub wraps: Option<usize>,
}

/// A table before layout; `red[row]` colours the row's first cell.
pub struct Grid {
    pub cols: Vec<Col>,
    pub red: Vec<bool>,
}

/// Each column's content width when the table fits `width`, or `None`.
/// A border and one space each side cost 3 columns per column, plus one.
fn fit(grid: &Grid, width: usize) -> Option<Vec<usize>> {
    let overhead = 3 * grid.cols.len() + 1;
    let content = |c: &Col| c.cells.iter().map(|s| wrap::width(s)).max().unwrap_or(0);
    // First with whole headers, then with headers wrapped at their spaces.
    for tight in [false, true] {
        let header = |c: &Col| {
            if tight {
                wrap::longest_word(&c.header)
            } else {
                wrap::width(&c.header)
            }
        };
        let natural: Vec<usize> = grid
            .cols
            .iter()
            .map(|c| content(c).max(header(c)))
            .collect();
        let mut widths: Vec<usize> = grid
            .cols
            .iter()
            .zip(&natural)
            .map(|(c, &n)| {
                let longest = c.cells.iter().map(|s| wrap::longest_word(s)).max();
                let least = longest.unwrap_or(0).max(header(c));
                c.wraps.map_or(n, |min| n.min(min.max(least)))
            })
            .collect();
        let used: usize = widths.iter().sum::<usize>() + overhead;
        let Some(mut spare) = width.checked_sub(used) else {
            continue;
        };
        // Whatever is left goes to the columns that wrap, up to their
        // natural width: first to those with the largest minimum ("Take").
        let mut order: Vec<usize> = (0..grid.cols.len())
            .filter(|&i| grid.cols[i].wraps.is_some())
            .collect();
        order.sort_by_key(|&i| std::cmp::Reverse(grid.cols[i].wraps));
        for i in order {
            let more = spare.min(natural[i] - widths[i]);
            widths[i] += more;
            spare -= more;
        }
        return Some(widths);
    }
    None
}

/// The table as text no wider than `width`, or `None` when it cannot fit
/// without splitting a date, dose or number.
pub fn render(grid: &Grid, width: usize, color: bool) -> Option<String> {
    let widths = fit(grid, width)?;
    let wrapped = |c: &Col, s: &str, w: usize| {
        if c.wraps.is_some() || wrap::width(s) > w {
            wrap::cell(s, w)
        } else {
            s.to_string()
        }
    };
    let header: Vec<String> = grid
        .cols
        .iter()
        .zip(&widths)
        .map(|(c, &w)| wrap::cell(&c.header, w))
        .collect();
    let rows = grid.cols.first().map_or(0, |c| c.cells.len());
    let mut body: Vec<Vec<String>> = Vec::with_capacity(rows);
    for r in 0..rows {
        body.push(
            grid.cols
                .iter()
                .zip(&widths)
                .map(|(c, &w)| wrapped(c, &c.cells[r], w))
                .collect(),
        );
    }
    // Rows of several lines need rules between them to be told apart.
    let multiline = body.iter().flatten().any(|s| s.contains('\n'));
    let mut table = Table::new();
    table
        .load_style(if multiline {
            presets::UTF8_FULL
        } else {
            presets::UTF8_FULL_CONDENSED
        })
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty();
    if color {
        table.enforce_styling();
    }
    table.set_header(header);
    for (r, cells) in body.into_iter().enumerate() {
        let row: Vec<Cell> = cells
            .into_iter()
            .zip(&grid.cols)
            .enumerate()
            .map(|(i, (s, c))| {
                let mut cell = Cell::new(s);
                if c.right {
                    cell = cell.set_alignment(CellAlignment::Right);
                }
                if color && i == 0 && grid.red.get(r).copied().unwrap_or(false) {
                    cell = cell.fg(Color::Red);
                }
                cell
            })
            .collect();
        table.add_row(row);
    }
    Some(table.to_string())
}
