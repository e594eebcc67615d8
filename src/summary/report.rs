//! Reports: figures grouped by day, month, session, model, project or
//! another label, as an aligned table for people or JSON Lines.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Figures;
use super::text::group;

/// Rows of figures grouped by one or more labels, and their total.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The labels grouped by (`day`, `model`, …), in the order given.
    pub by: Vec<String>,
    /// Each group's labels and figures, sorted by the labels.
    pub rows: Vec<(Vec<String>, Figures)>,
    /// All rows together.
    pub total: Figures,
}

impl Report {
    /// An empty report grouped by `by`.
    pub fn new(by: Vec<String>) -> Report {
        Report {
            by,
            ..Report::default()
        }
    }

    /// Builds the rows from `(labels, figures)` pairs: equal labels add up.
    /// `Err` says what would overflow.
    pub fn from_parts(
        by: Vec<String>,
        parts: impl IntoIterator<Item = (Vec<String>, Figures)>,
    ) -> Result<Report, String> {
        let mut groups: BTreeMap<Vec<String>, Figures> = BTreeMap::new();
        let mut total = Figures::default();
        for (labels, figures) in parts {
            total.add(&figures)?;
            groups.entry(labels).or_default().add(&figures)?;
        }
        Ok(Report {
            by,
            rows: groups.into_iter().collect(),
            total,
        })
    }

    /// The report as a table: a header, one line per group, the total;
    /// labels left-aligned, figures right-aligned, costs in USD. The
    /// unpriced column is shown only when some tokens are unpriced.
    pub fn to_table(&self) -> String {
        let unpriced = self.total.unpriced_tokens > 0;
        let mut header: Vec<String> = self.by.clone();
        header.extend(
            [
                "responses",
                "input",
                "output",
                "cache read",
                "cache write",
                "cache write 1h",
                "cost (USD)",
            ]
            .map(String::from),
        );
        if unpriced {
            header.push("unpriced tokens".to_string());
        }
        let figures = |f: &Figures| {
            let mut cells = vec![
                group(f.responses),
                group(f.input_tokens),
                group(f.output_tokens),
                group(f.cache_read_tokens),
                group(f.cache_write_tokens),
                group(f.cache_write_1h_tokens),
                format!("${}", f.cost.to_string_min_decimals(2)),
            ];
            if unpriced {
                cells.push(group(f.unpriced_tokens));
            }
            cells
        };
        let mut lines: Vec<Vec<String>> = vec![header];
        for (labels, f) in &self.rows {
            let mut cells: Vec<String> = labels
                .iter()
                .map(|l| crate::plain::escape_controls(l))
                .collect();
            cells.extend(figures(f));
            lines.push(cells);
        }
        let mut total = vec![String::new(); self.by.len()];
        if let Some(first) = total.first_mut() {
            *first = "total".to_string();
        }
        total.extend(figures(&self.total));
        lines.push(total);
        let columns = lines[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for line in &lines {
            let mut text = String::new();
            for (c, cell) in line.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c > 0 {
                    text.push_str("  ");
                }
                if c < self.by.len() {
                    text.push_str(cell);
                    text.push_str(&" ".repeat(pad));
                } else {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }

    /// The report as JSON Lines: one object per group (its labels, then
    /// its figures), then the total with `"total": true`.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        let mut push = |labels: Option<&[String]>, figures: &Figures| {
            let mut object = Map::new();
            for (at, name) in self.by.iter().enumerate() {
                let label = labels.map_or(Value::Null, |l| Value::String(l[at].clone()));
                object.insert(name.clone(), label);
            }
            object.insert("total".to_string(), Value::Bool(labels.is_none()));
            if let Ok(Value::Object(fields)) = serde_json::to_value(figures) {
                object.extend(fields);
            }
            object.insert(
                "total_tokens".to_string(),
                Value::from(figures.tokens().unwrap_or(u64::MAX)),
            );
            object.insert("currency".to_string(), Value::from("USD"));
            out.push_str(&Value::Object(object).to_string());
            out.push('\n');
        };
        for (labels, figures) in &self.rows {
            push(Some(labels), figures);
        }
        push(None, &self.total);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;

    fn figures(responses: u64, input: u64, cost: &str) -> Figures {
        Figures {
            responses,
            input_tokens: input,
            cost: Money::parse(cost).unwrap(),
            ..Figures::default()
        }
    }

    #[test]
    fn rows_add_up_sorted_by_their_labels() {
        let by = vec!["day".to_string(), "model".to_string()];
        let parts = [
            (vec!["2026-12-01".into(), "b".into()], figures(1, 10, "0.5")),
            (
                vec!["2026-11-30".into(), "a".into()],
                figures(2, 1000, "0.25"),
            ),
            (
                vec!["2026-12-01".into(), "b".into()],
                figures(1, 5, "0.125"),
            ),
        ];
        let report = Report::from_parts(by, parts).unwrap();
        assert_eq!(report.rows.len(), 2);
        assert_eq!(report.rows[0].0[0], "2026-11-30");
        assert_eq!(report.rows[1].1.input_tokens, 15);
        assert_eq!(report.total.responses, 4);
        let table = report.to_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].starts_with("day         model  responses"),
            "{table}"
        );
        assert!(lines[3].starts_with("total"), "{table}");
        assert!(lines[3].ends_with("$0.875"), "{table}");
        // Every line is as wide as the header: right-aligned figures.
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{table}");
        let json = report.to_json_lines();
        let last: Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
        assert_eq!(last["total"], true);
        assert_eq!(last["day"], Value::Null);
        assert_eq!(last["cost"], "0.875");
        assert_eq!(last["input_tokens"], 1015);
    }
}
