//! One run's page of the report: its record as `show` reports it, the card rendered
//! from markdown, the review's checks, the approval chain with the signature as
//! verified, and its figures inline.

use super::{esc, markdown::card_html, page};
use crate::model::review::CheckResult;
use std::collections::BTreeMap;

/// A figure of the run: its output path and hash, and the report's copy of it
/// (relative to the page) or why there is none.
#[derive(Debug, Clone)]
pub struct FigureView {
    pub output: String,
    pub hash: String,
    pub href: Result<String, String>,
}

/// A transition of the run's chain.
#[derive(Debug, Clone)]
pub struct TransitionView {
    pub event: String,
    pub commit: String,
    pub author: String,
    pub time: String,
}

/// Everything a run's page shows, as text (escaped when rendered).
#[derive(Debug, Clone, Default)]
pub struct RunView {
    pub stage: String,
    pub run_id: String,
    pub ref_name: String,
    pub record: String,
    pub state: String,
    pub command: String,
    pub started_at: String,
    pub sweep: Option<String>,
    pub params: Vec<(String, String)>,
    pub metrics: Vec<(String, String)>,
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub card: Option<String>,
    /// A card's figure link (`figures/<name>`) → the report's copy.
    pub card_figures: BTreeMap<String, String>,
    pub figures: Vec<FigureView>,
    pub verdict: Option<String>,
    pub checks: Vec<CheckResult>,
    pub transitions: Vec<TransitionView>,
    /// `(key, value)` lines about the approval (approver, signature, ...).
    pub approval: Vec<(String, String)>,
}

fn pairs(title: &str, class: &str, rows: &[(String, String)]) -> String {
    let mut b = format!("<h2>{title}</h2>\n");
    if rows.is_empty() {
        b.push_str("<p>none</p>\n");
        return b;
    }
    b.push_str(&format!("<table class=\"{class}\">\n"));
    for (k, v) in rows {
        b.push_str(&format!(
            "<tr><th>{}</th><td><code>{}</code></td></tr>\n",
            esc(k),
            esc(v)
        ));
    }
    b.push_str("</table>\n");
    b
}

fn checks(v: &RunView) -> String {
    let mut b = String::from("<h2>Review</h2>\n");
    let Some(verdict) = &v.verdict else {
        b.push_str("<p>not reviewed</p>\n");
        return b;
    };
    b.push_str(&format!("<p>verdict: <b>{}</b></p>\n<table class=\"checks\"><tr><th>check</th><th>result</th><th>blocking</th><th>source</th><th>note</th></tr>\n", esc(verdict)));
    for c in &v.checks {
        let (class, result) = if c.pass {
            ("ok", "pass")
        } else {
            ("error", "fail")
        };
        b.push_str(&format!(
            "<tr class=\"check\"><td>{}</td><td class=\"{class}\">{result}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&c.name),
            c.blocking,
            esc(&c.source),
            esc(c.note.as_deref().unwrap_or(""))
        ));
    }
    b.push_str("</table>\n");
    b
}

fn chain(v: &RunView) -> String {
    let mut b = String::from("<h2>Approval chain</h2>\n<table class=\"chain\"><tr><th>event</th><th>commit</th><th>author</th><th>time</th></tr>\n");
    for t in &v.transitions {
        b.push_str(&format!(
            "<tr class=\"transition\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
            esc(&t.event), esc(&t.commit), esc(&t.author), esc(&t.time)
        ));
    }
    b.push_str("</table>\n");
    if v.approval.is_empty() {
        b.push_str("<p>not approved</p>\n");
    } else {
        b.push_str(&pairs("Approval", "approval", &v.approval).replacen(
            "<h2>Approval</h2>\n",
            "",
            1,
        ));
    }
    b
}

fn figures(v: &RunView) -> String {
    let mut b = String::from("<h2>Figures</h2>\n");
    if v.figures.is_empty() {
        b.push_str("<p>none</p>\n");
    }
    for f in &v.figures {
        match &f.href {
            Ok(href) => b.push_str(&format!(
                "<figure class=\"figure\" data-output=\"{0}\"><img src=\"{1}\" alt=\"{0}\"><figcaption><code>{0}</code> <code>{2}</code></figcaption></figure>\n",
                esc(&f.output), esc(href), esc(&f.hash)
            )),
            Err(why) => b.push_str(&format!(
                "<p class=\"figure-missing\"><code>{}</code>: {}</p>\n",
                esc(&f.output),
                esc(why)
            )),
        }
    }
    b
}

/// The page of one run (it lives in `runs/`, so the index is `../index.html`).
pub fn run_page(v: &RunView) -> String {
    let mut b = format!(
        "<p><a href=\"../index.html\">← all runs</a></p>\n<h1>Run <code>{}</code> of <code>{}</code></h1>\n",
        esc(&v.run_id),
        esc(&v.stage)
    );
    let mut about = vec![
        ("state".to_string(), v.state.clone()),
        ("ref".to_string(), v.ref_name.clone()),
        ("record".to_string(), v.record.clone()),
        ("command".to_string(), v.command.clone()),
        ("started_at".to_string(), v.started_at.clone()),
    ];
    if let Some(s) = &v.sweep {
        about.push(("sweep".into(), s.clone()));
    }
    b.push_str(&pairs("Run", "about", &about));
    b.push_str(&pairs("Params", "params", &v.params));
    b.push_str(&pairs("Metrics", "metrics", &v.metrics));
    b.push_str(&pairs("Inputs", "inputs", &v.inputs));
    b.push_str(&pairs("Outputs", "outputs", &v.outputs));
    b.push_str("<h2>Card</h2>\n");
    match &v.card {
        Some(md) => b.push_str(&format!(
            "<div class=\"card\">{}</div>\n",
            card_html(md, &v.card_figures)
        )),
        None => b.push_str("<p>no card</p>\n"),
    }
    b.push_str(&checks(v));
    b.push_str(&chain(v));
    b.push_str(&figures(v));
    page(&format!("{} {}", v.stage, v.run_id), &b, false)
}
