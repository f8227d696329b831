"""The report's CSS (self-contained: no external fonts, scripts or images)."""
from __future__ import annotations

_CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;--pass:#15803d;
--fail:#b91c1c;--warn:#b45309;--accent:#0f766e;--orange:#d9711c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:24px 28px 40px}
header,section,footer{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:18px 22px;margin-bottom:18px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
h1{font-size:24px;margin:0;word-break:break-all}
h2{font-size:18px;margin:0 0 8px}
h3{font-size:14px;margin:14px 0 6px}
.title{display:flex;align-items:center;gap:14px;flex-wrap:wrap}
.sub{color:var(--muted);margin-top:2px}
.verdict{font-weight:700;letter-spacing:.06em;padding:4px 12px;border-radius:999px;color:#fff;
font-size:13px;background:#6b7280}
.failed{color:var(--fail);font-weight:600;font-size:13px}
.verdict.pass{background:var(--pass)}.verdict.error{background:var(--warn)}.verdict.fail{background:var(--fail)}
.verdict.info{background:#e2e8f0;color:#1e293b;box-shadow:inset 0 0 0 1px #94a3b8}
.verdict.unknown{background:#6b7280}
.title .muted{font-size:13px}
.summary-line{background:#f1f5f9;border:1px solid var(--line);border-radius:6px;padding:8px 10px;
white-space:pre-wrap;word-break:break-word;font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,
Consolas,monospace;margin:12px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{flex:1 1 170px;border:1px solid var(--line);border-radius:8px;padding:8px 12px;background:#fcfcfd}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .csub{color:var(--muted);font-size:12px}
.card.warn{border-color:#f5c08a;background:#fff8f0}.card.warn .value{color:var(--warn)}
.card.gate-failed{border:2px solid var(--fail);background:#fff5f5;padding:7px 11px}
.card.gate-failed .value{color:var(--fail)}
.card.gate-passed{border-color:#86efac}
.gmargin{font-size:12px;margin-top:3px;overflow-wrap:anywhere}
.gmargin.fail{color:var(--fail);font-weight:600}.gmargin.pass{color:var(--pass)}
.gatecards{display:flex;flex-wrap:wrap;gap:10px}
.card.gate{flex:1 1 260px;max-width:520px}
.gname{display:flex;align-items:center;gap:6px;flex-wrap:wrap}.gvals{font-size:13px;margin-top:4px}
details summary{cursor:pointer;color:var(--muted);margin:6px 0}
table{border-collapse:collapse}
table.kv th{text-align:left;font-weight:500;color:var(--muted);padding:2px 14px 2px 0;
vertical-align:top;white-space:nowrap}
table.kv td{padding:2px 0;overflow-wrap:anywhere;font-size:13px}
table.data.compact{width:auto;min-width:360px}
.scroll{overflow-x:auto;max-width:100%}
.scroll>table.data:not(.compact){min-width:100%}
.scroll table.data .mono{word-break:normal;white-space:nowrap}
table.data.padding{min-width:980px}
table.data td.padc,table.data td.skewc{white-space:nowrap}
.chartbox svg.chart{min-width:900px}
.chartbox svg.bars{min-width:700px}
table.data th.num{text-align:right}
table.data{width:100%;font-size:13px;margin:6px 0}
table.data th{text-align:left;font-weight:600;border-bottom:2px solid var(--line);padding:5px 8px;
white-space:nowrap}
table.data td{border-bottom:1px solid var(--line);padding:4px 8px;vertical-align:middle}
table.data td svg{vertical-align:middle}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.bad{color:var(--fail);font-weight:600}
tr.uneven td{background:#fff7ed}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
word-break:break-all}
.lead{color:#374151;margin:2px 0 10px;max-width:980px}
.muted{color:var(--muted);font-size:12.5px}
ul.warn{color:var(--warn)}
.empty{color:var(--muted);font-style:italic}
div.error{border:1px solid #fecaca;background:#fef2f2;color:#7f1d1d;border-radius:8px;padding:10px 14px;
white-space:pre-wrap;word-break:break-word}
.legendrow{display:flex;align-items:center;gap:10px;flex-wrap:wrap;color:var(--muted);font-size:12.5px;
margin-bottom:8px}
.legendrow text{fill:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(112px,1fr));gap:8px}
.grid.compact{grid-template-columns:repeat(auto-fill,minmax(84px,1fr));gap:6px}
.grid.compact .hm{height:58px}.grid.compact .base,.grid.compact .shape,.grid.compact .lid{display:none}
.grid.compact .S{font-size:12px}
.tile{margin:0;border:1px solid var(--line);border-radius:8px;padding:6px 6px 7px;background:#fff;
min-width:0;text-align:center}
.tile.strided{border-color:#f0b27a;background:#fffaf5}
.thead{display:flex;align-items:center;gap:4px;min-height:18px;margin-bottom:3px}
.idx{font-weight:650;font-size:12px;margin-right:auto;font-variant-numeric:tabular-nums}
.hm{height:80px;display:flex;align-items:center;justify-content:center}
.hm svg{display:block}
.nodraw{font-size:11px;color:var(--muted)}
.srow{display:flex;align-items:center;justify-content:center;gap:5px;margin-top:4px}
.S{font-weight:650;font-variant-numeric:tabular-nums;font-size:13px}
.S.hi{color:#0f766e}.S.lo{color:#b91c1c}
.base,.shape,.note{color:var(--muted);font-size:11px;font-variant-numeric:tabular-nums}
.lid{font:10.5px/1.25 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow:hidden;
overflow-wrap:anywhere;max-height:2.5em;margin-top:1px}
.padnote{font-size:11px;color:var(--warn);font-weight:600}
.badge{display:inline-block;font-size:10.5px;font-weight:650;padding:0 5px;border-radius:4px;
line-height:16px;background:#e5e7eb;color:#374151}
.badge.s{background:var(--orange);color:#fff}.badge.dw{background:#dbeafe;color:#1e3a8a}
.badge.why.shift{background:#ede9fe;color:#5b21b6}.badge.why.flip{background:#fce7f3;color:#9d174d}
.badge.why.lowest{background:#fef3c7;color:#92400e}.badge.why.other{background:#e5e7eb;color:#374151}
.badge.tr{background:#ccfbf1;color:#115e59}
.badge.gate.pass{background:#dcfce7;color:var(--pass)}.badge.gate.fail{background:#fee2e2;color:var(--fail)}
.badge.pad.uneven{background:#ffedd5;color:#9a3412}.badge.pad.even{background:#dcfce7;color:#166534}
.badge.lean.toward{background:#fde68a;color:#78350f}.badge.lean.away{background:#e0e7ff;color:#3730a3}
.badge.lean.neither{background:#f3f4f6;color:#4b5563}
.badge.status{background:#f3f4f6;color:#4b5563;border:1px solid #d1d5db;line-height:14px}
.badge.status.unresolved,.badge.status.invalid{background:#fef2f2;color:#991b1b;border-color:#fecaca}
svg.chart{display:block;max-width:100%;height:auto}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .tick{font-size:11px;fill:#4b5563}
svg .pt{cursor:help}
svg .axis{font-size:12.5px;fill:#374151}
svg .plabel{font-size:10.5px;fill:#9a3412;font-weight:600;stroke:#fff;stroke-width:3px;
paint-order:stroke;stroke-linejoin:round}
svg .halo{stroke:#fff;stroke-width:3px;paint-order:stroke;stroke-linejoin:round}
svg .blabel{font-size:13px;fill:#1f2937;font-weight:600}
svg .bval{font-size:14px;fill:#1f2937;font-weight:700}
svg.bars{display:block;max-width:860px;height:auto;margin-bottom:10px}
.chartbox{margin-bottom:4px}
.suggest{border-left:3px solid var(--accent);background:#f0fdfa;padding:6px 14px;border-radius:0 6px 6px 0;
margin-top:10px}
.suggest ul{margin:4px 0;padding-left:18px}
.thumbs{display:flex;flex-wrap:wrap;gap:10px}
.thumb{margin:0;width:150px;border:1px solid var(--line);border-radius:8px;overflow:hidden;background:#fff}
.thumb.wide{width:218px}
.thumb img.whole{display:block;width:100%;height:128px;object-fit:contain;background:#f3f4f6}
.thumb .tname{padding:4px 6px 2px}
.reason{border-top:1px solid var(--line);padding-top:3px;margin-top:4px}
.views{display:grid;grid-template-columns:1fr 1fr;gap:6px;margin-top:4px}
.view{min-width:0}.view img{display:block;width:100%;height:auto;border-radius:3px;background:#f3f4f6}
.vcap{font-size:11px;line-height:1.25;color:#374151;margin-top:2px;overflow-wrap:anywhere}
.noimg.small{height:60px;font-size:11px}
.thumb figcaption{padding:4px 6px;font-size:12px;overflow-wrap:anywhere}
.thumb .tname{font-weight:600;margin-bottom:2px}.thumb .why{line-height:1.3;margin-top:2px}
.thumb .why .muted{font-size:11.5px}
.noimg{height:150px;display:flex;align-items:center;justify-content:center;color:var(--muted)}
.pill{display:inline-block;padding:1px 10px;border-radius:999px;font-weight:700;font-size:12px;
background:#e5e7eb}
.pill.pass{background:#dcfce7;color:var(--pass)}.pill.fail{background:#fee2e2;color:var(--fail)}
tr.gfail td{background:#fff5f5}
footer dl{margin:0;display:grid;grid-template-columns:170px 1fr;gap:6px 16px}
.lgrid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:4px 22px}
.lgroup h3{margin:8px 0 4px}
.lgroup dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:4px 10px;align-items:baseline}
.lgroup dt{text-align:right}.lgroup dd{margin:0;font-size:12.5px;color:#374151}
.lgroup .verdict{font-size:11px;padding:1px 8px}
footer dt{font-weight:650}footer dd{margin:0;color:#374151}
code{background:#f1f5f9;padding:0 4px;border-radius:4px}
@media (max-width:700px){
main{padding:10px 8px 24px}
header,section,footer{padding:12px;border-radius:8px;margin-bottom:12px}
h1{font-size:20px}
.card{flex-basis:140px}.card .value{font-size:19px}
.grid{grid-template-columns:repeat(auto-fill,minmax(100px,1fr));gap:6px}
footer dl{grid-template-columns:1fr;gap:2px}footer dd{margin-bottom:6px}
.lgrid{grid-template-columns:1fr}
table.kv,table.kv tbody,table.kv tr,table.kv th,table.kv td{display:block}
table.kv th{padding:4px 0 0;font-size:12px}table.kv td{padding:0 0 2px}
.thumbs{justify-content:center}
}
@media print{body{background:#fff}header,section,footer{box-shadow:none;break-inside:avoid-page}}
"""
