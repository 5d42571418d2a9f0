//! The static HTML report (`git workbench report`): pages rendered from typed data the
//! use case gathered, with no I/O here. Every string from a record is escaped
//! (`esc`); the pages load nothing from the network: one inline style, one inline
//! script allowed by its hash in the Content-Security-Policy, plots as inline SVG,
//! figures as local files.

pub mod markdown;
pub mod plot;
pub mod run_page;

pub use run_page::{run_page, FigureView, RunView};

use crate::model::table::{Direction, Table};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The page script: sorting and filtering the comparison table.
pub const SCRIPT: &str = include_str!("script.js");

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}\
th{background:#eee;cursor:pointer}td.best{font-weight:bold;background:#dfd}\
.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}\
.card{border:1px solid #ccc;padding:0 1em;max-width:60em}img{max-width:100%}\
.error{color:#a00}.warning{color:#a60}.ok{color:#070}code{background:#f4f4f4}";

/// Text from a record as HTML text or a double-quoted attribute value.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The CSP source of an inline script or style: `'sha256-<base64>'`.
pub fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(text.as_bytes())))
}

/// Standard base64 (with `=` padding).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// A whole page: `title` escaped here, `body` already HTML, the script when `script`.
pub fn page(title: &str, body: &str, script: bool) -> String {
    let script_src = if script {
        csp_hash(SCRIPT)
    } else {
        "'none'".into()
    };
    let csp = format!(
        "default-src 'none'; script-src {script_src}; style-src {}; img-src 'self' file:; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE)
    );
    let mut p = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <title>{}</title>\n<style>{STYLE}</style></head>\n<body>\n{body}",
        esc(title)
    );
    if script {
        p.push_str(&format!("<script>{SCRIPT}</script>\n"));
    }
    p.push_str("</body></html>\n");
    p
}

/// A run as a row of the index: where its page is, and what the filters read.
#[derive(Debug, Clone)]
pub struct RowLinks {
    pub page: String,
    pub sweep: Option<String>,
}

/// One plot: a metric against a param of a sweep, or over time in a stage.
#[derive(Debug, Clone)]
pub struct Plot {
    /// `sweep` or `time`.
    pub kind: &'static str,
    /// The sweep id or the stage name.
    pub group: String,
    pub metric: String,
    /// The param on the x axis (`started_at` over time).
    pub x: String,
    pub svg: String,
}

/// A narrative block and what the check found about it.
#[derive(Debug, Clone)]
pub struct BlockView {
    pub line: usize,
    pub stage: String,
    pub run: String,
    /// `ok`, `warning` or `error`.
    pub status: String,
    pub detail: Vec<String>,
    pub page: Option<String>,
}

/// A narrative file: its blocks, and the problems not about one block.
#[derive(Debug, Clone)]
pub struct NarrativeView {
    pub file: String,
    pub blocks: Vec<BlockView>,
    pub problems: Vec<(String, String)>,
}

/// Everything the index shows.
pub struct IndexView<'a> {
    pub table: &'a Table,
    pub directions: &'a BTreeMap<String, Direction>,
    /// One per row of `table`.
    pub rows: &'a [RowLinks],
    pub plots: &'a [Plot],
    pub narratives: &'a [NarrativeView],
}

fn select(id: &str, label: &str, values: &BTreeSet<String>) -> String {
    let mut s = format!("<label>{label} <select id=\"f-{id}\"><option value=\"\">all</option>");
    for v in values {
        s.push_str(&format!("<option value=\"{0}\">{0}</option>", esc(v)));
    }
    s.push_str("</select></label>\n");
    s
}

fn column_values(t: &Table, name: &str) -> BTreeSet<String> {
    match t.columns.iter().position(|c| c == name) {
        Some(i) => t.rows.iter().map(|r| r[i].render()).collect(),
        None => BTreeSet::new(),
    }
}

/// `index.html`.
pub fn index(v: &IndexView) -> String {
    let t = v.table;
    let mut b = String::from("<h1>Workbench report</h1>\n<nav><a href=\"#runs\">runs</a> · <a href=\"#plots\">plots</a> · <a href=\"#narratives\">narratives</a></nav>\n<h2>Runs</h2>\n<p>");
    b.push_str(&select("stage", "stage", &column_values(t, "stage")));
    let sweeps: BTreeSet<String> = v.rows.iter().filter_map(|r| r.sweep.clone()).collect();
    b.push_str(&select("sweep", "sweep", &sweeps));
    b.push_str(&select("state", "state", &column_values(t, "state")));
    b.push_str(&format!(
        " <span id=\"shown\">{}</span> of {} runs shown</p>\n",
        t.rows.len(),
        t.rows.len()
    ));
    b.push_str(&runs_table(v));
    b.push_str(&plots(v.plots));
    b.push_str(&narratives(v.narratives));
    page("Workbench report", &b, true)
}

fn runs_table(v: &IndexView) -> String {
    let t = v.table;
    let best = crate::table::best_rows(t, v.directions);
    let mut b = String::from("<table id=\"runs\"><thead><tr>");
    for c in &t.columns {
        b.push_str(&format!("<th>{}</th>", esc(c)));
    }
    b.push_str("</tr></thead>\n<tbody>\n");
    let col = |n: &str| t.columns.iter().position(|c| c == n);
    let (stage, state) = (col("stage"), col("state"));
    for (i, (row, links)) in t.rows.iter().zip(v.rows).enumerate() {
        let attr = |c: Option<usize>| c.map(|c| esc(&row[c].render())).unwrap_or_default();
        b.push_str(&format!(
            "<tr class=\"run\" data-stage=\"{}\" data-sweep=\"{}\" data-state=\"{}\">",
            attr(stage),
            esc(links.sweep.as_deref().unwrap_or("")),
            attr(state)
        ));
        for (c, cell) in row.iter().enumerate() {
            let text = esc(&cell.render());
            let class = if best.get(&c) == Some(&i) {
                " class=\"best\" title=\"best\""
            } else {
                ""
            };
            if t.columns[c] == "run_id" {
                b.push_str(&format!(
                    "<td><a href=\"{}\">{text}</a></td>",
                    esc(&links.page)
                ));
            } else {
                b.push_str(&format!("<td{class} data-v=\"{text}\">{text}</td>"));
            }
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table>\n");
    b
}

fn plots(plots: &[Plot]) -> String {
    let mut b = String::from("<h2 id=\"plots\">Plots</h2>\n");
    if plots.is_empty() {
        b.push_str("<p>No numeric metric to plot.</p>\n");
    }
    let mut group: Option<(&str, &str)> = None;
    for p in plots {
        if group != Some((p.kind, &p.group)) {
            if group.is_some() {
                b.push_str("</div>\n");
            }
            let what = if p.kind == "sweep" {
                "Sweep"
            } else {
                "Over time, stage"
            };
            b.push_str(&format!(
                "<h3>{what} <code>{}</code></h3>\n<div class=\"plots\">\n",
                esc(&p.group)
            ));
            group = Some((p.kind, &p.group));
        }
        b.push_str(&format!(
            "<figure class=\"plot\" data-plot=\"{}\" data-group=\"{}\" data-metric=\"{}\">{}<figcaption><code>{}</code> against <code>{}</code></figcaption></figure>\n",
            p.kind,
            esc(&p.group),
            esc(&p.metric),
            p.svg,
            esc(&p.metric),
            esc(&p.x)
        ));
    }
    if group.is_some() {
        b.push_str("</div>\n");
    }
    b
}

fn narratives(ns: &[NarrativeView]) -> String {
    let mut b = String::from("<h2 id=\"narratives\">Narratives</h2>\n");
    if ns.is_empty() {
        b.push_str("<p>No narrative files.</p>\n");
    }
    for n in ns {
        b.push_str(&format!(
            "<section class=\"narrative\" data-file=\"{0}\"><h3><code>{0}</code></h3>\n<ul>\n",
            esc(&n.file)
        ));
        for blk in &n.blocks {
            let run = match &blk.page {
                Some(p) => format!("<a href=\"{}\">{}</a>", esc(p), esc(&blk.run)),
                None => esc(&blk.run),
            };
            b.push_str(&format!(
                "<li class=\"block {0}\" data-status=\"{0}\">line {1}: <code>{2}</code> run {run}: <b>{0}</b>",
                esc(&blk.status), blk.line, esc(&blk.stage)
            ));
            for d in &blk.detail {
                b.push_str(&format!(" — {}", esc(d)));
            }
            b.push_str("</li>\n");
        }
        for (sev, p) in &n.problems {
            b.push_str(&format!(
                "<li class=\"{0}\">{0}: {1}</li>\n",
                esc(sev),
                esc(p)
            ));
        }
        b.push_str("</ul></section>\n");
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(esc("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
    }
}
