"""The matrix page's stylesheet and script, inlined into the page: it must open from a file,
an artefact store or a mail attachment, with no network at all."""

from __future__ import annotations

STYLE = """
:root { --fg: #1b1f24; --muted: #5b636d; --line: #d8dde3; --bg: #fff; --soft: #f5f7f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; padding: 1.2rem 1.6rem 3rem; max-width: 1500px; }
h1 { font-size: 1.5rem; margin: 0 0 .4rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; border-bottom: 1px solid var(--line); }
.meta, .sub, .note { color: var(--muted); }
.sub { font-size: 12px; }
code, pre { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
pre { background: var(--soft); padding: .5rem; overflow-x: auto; white-space: pre-wrap;
  word-break: break-word; margin: .2rem 0 .6rem; max-height: 24rem; }
.headline { display: inline-block; font-weight: 700; font-size: 1.3rem; padding: .15rem .8rem;
  border-radius: 4px; color: #fff; margin-right: .6rem; }
.headline.PASS { background: #1f7a3a; } .headline.FAIL { background: #b3261e; }
.headline.INCOMPLETE { background: #8a5a00; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
  border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; }
table.counts { width: auto; } table.counts td, table.counts th { text-align: right; }
table.counts button { font: inherit; border: 0; background: none; cursor: pointer;
  text-decoration: underline; padding: 0; color: inherit; }
td.id { white-space: nowrap; font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
td.reason { max-width: 46rem; overflow-wrap: anywhere; }
tbody.req[hidden] { display: none; }
tr.detail td { border-bottom: 2px solid var(--line); padding-top: 0; }
details > summary { cursor: pointer; color: var(--muted); font-size: 12px; }
.verdict { display: inline-block; padding: 0 .45rem; border-radius: 3px; font-size: 12px;
  font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.v-passed { background: #dcf3e3; color: #14532d; }
.v-scaled { background: #fff1c2; color: #6b4a00; border-color: #d9b44a; }
.v-partial { background: #fde8c8; color: #7a3e00; }
.v-failed, .v-error { background: #fbd5d2; color: #8c1d18; }
.v-blocked { background: #fde0c8; color: #8a3a00; }
.v-skipped { background: #e9ecef; color: #3d444c; }
.v-waived { background: #ece1fb; color: #4a2380; }
.v-attested { background: #dde9fb; color: #1d3f7a; }
.v-not_applicable, .v-deselected, .v-uncovered, .v-other { background: #f1f3f5; color: #5b636d; }
.filters { position: sticky; top: 0; background: var(--bg); padding: .5rem 0;
  border-bottom: 1px solid var(--line); display: flex; gap: 1.2rem; align-items: center;
  flex-wrap: wrap; z-index: 1; }
.filters label { font-weight: 600; }
ul.groups { padding-left: 1.2rem; } ul.groups li { margin: .25rem 0; }
.ids a { font-family: ui-monospace, Menlo, monospace; font-size: 12px; margin-right: .4rem; }
.blocked-row { padding-left: 1.4rem; }
tr.differs td { background: #fff6d6; }
.trend { white-space: nowrap; font-size: 12px; }
.trend-newly_failing { color: #8c1d18; font-weight: 700; }
.trend-fixed { color: #14532d; font-weight: 700; }
.trend-flaky { color: #8a3a00; font-weight: 700; }
.recent .verdict { font-weight: 400; font-size: 11px; margin-right: 2px; }
"""

# filters by area, verdict and (with a history) change; the rows a selection left out are hidden
# until asked for; a count cell sets the verdict filter
SCRIPT = """
(function () {
  "use strict";
  var area = document.getElementById("filter-area");
  var verdict = document.getElementById("filter-verdict");
  var changed = document.getElementById("filter-changed");
  var unjudged = document.getElementById("filter-deselected");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tbody.req"));
  function apply() {
    var count = 0;
    rows.forEach(function (row) {
      var keep = (!area.value || row.getAttribute("data-area") === area.value) &&
        (!verdict.value || row.getAttribute("data-verdict") === verdict.value) &&
        (!changed || !changed.checked || row.getAttribute("data-changed") === "1") &&
        (!unjudged || !unjudged.checked || verdict.value === "deselected" ||
          row.getAttribute("data-verdict") !== "deselected");
      row.hidden = !keep;
      if (keep) { count += 1; }
    });
    shown.textContent = String(count);
  }
  [area, verdict, changed, unjudged].forEach(function (control) {
    if (control) { control.addEventListener("change", apply); }
  });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-verdict]"),
    function (button) {
      button.addEventListener("click", function () {
        verdict.value = button.getAttribute("data-verdict");
        apply();
        document.getElementById("requirements").scrollIntoView();
      });
    });
  apply();
}());
"""
