//! Progress on stderr, one bar or spinner per phase, shown only when stderr is a terminal
//! and `--quiet` is not set. Rates are whole numbers per second.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// `{rate}`: items per second, a whole number.
fn rate(s: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{:.0}/s", s.per_sec());
}

/// A bar counting `len` items, hidden unless `show`.
pub fn bar(len: u64, label: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{prefix:>6} [{elapsed_precise}] {wide_bar} {pos}/{len} ({rate}, eta {eta})",
    )
    .map(|s| s.with_key("rate", rate))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_prefix(label.to_string());
    pb
}

/// A spinner for a phase without a count, with a message; hidden unless `show`.
pub fn spinner(label: &str, message: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix:>6} [{elapsed_precise}] {spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    pb.set_style(style);
    pb.set_prefix(label.to_string());
    pb.set_message(message.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}
