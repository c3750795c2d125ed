// The panel's CSS (scoped under .tt-panel; JupyterLab theme variables with light fallbacks).

export const CSS = `
.tt-panel{--tt-fg:var(--jp-ui-font-color1,#1f2328);--tt-muted:var(--jp-ui-font-color2,#656d76);
  --tt-bg:var(--jp-layout-color1,#fff);--tt-bg2:var(--jp-layout-color2,#f6f8fa);--tt-border:var(--jp-border-color2,#d0d7de);
  --tt-accent:var(--jp-brand-color1,#4c78a8);--tt-ok:#2da44e;--tt-warn:#d4a72c;--tt-bad:var(--jp-error-color1,#cf222e);
  font-family:var(--jp-ui-font-family,system-ui,-apple-system,"Segoe UI",sans-serif);font-size:12px;color:var(--tt-fg);
  border:1px solid var(--tt-border);border-radius:6px;padding:8px 10px;background:var(--tt-bg);box-sizing:border-box;max-width:100%}
.tt-panel *{box-sizing:border-box}
.tt-head{display:flex;align-items:center;gap:8px;margin-bottom:6px}
.tt-title{font-weight:600;font-size:13px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.tt-status{border-radius:10px;padding:0 7px;font-size:11px;line-height:17px;background:var(--tt-bg2);border:1px solid var(--tt-border)}
.tt-status-running{color:var(--tt-accent);border-color:var(--tt-accent)}
.tt-status-done{color:var(--tt-ok);border-color:var(--tt-ok)}
.tt-status-error,.tt-status-interrupted{color:var(--tt-bad);border-color:var(--tt-bad)}
.tt-elapsed{color:var(--tt-muted);margin-left:auto;font-variant-numeric:tabular-nums}
.tt-stats{display:flex;flex-wrap:wrap;gap:4px 16px}
.tt-stat{display:flex;flex-direction:column;min-width:56px}
.tt-k{color:var(--tt-muted);font-size:10.5px;text-transform:uppercase;letter-spacing:.03em}
.tt-v{font-weight:600;font-size:13px;font-variant-numeric:tabular-nums}
.tt-stat-cost .tt-v{color:var(--tt-accent)}
.tt-bad .tt-v{color:var(--tt-bad)}
.tt-live{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:6px;color:var(--tt-muted)}
.tt-live[hidden],.tt-budgets[hidden],.tt-runs[hidden],.tt-chart[hidden],.tt-foot[hidden]{display:none}
.tt-spinner{width:12px;height:12px;border:2px solid var(--tt-border);border-top-color:var(--tt-accent);border-radius:50%;
  animation:tt-spin .8s linear infinite;flex:none}
@keyframes tt-spin{to{transform:rotate(360deg)}}
.tt-chip{background:var(--tt-bg2);border:1px solid var(--tt-border);border-radius:10px;padding:0 7px;line-height:17px;
  color:var(--tt-fg);max-width:260px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.tt-chip-tool{border-style:dashed}
.tt-budgets{display:flex;flex-direction:column;gap:4px;margin-top:8px}
.tt-budget{display:grid;grid-template-columns:100px minmax(80px,1fr) auto;align-items:center;gap:8px}
.tt-track{position:relative;height:8px;border-radius:4px;background:var(--tt-bg2);border:1px solid var(--tt-border);overflow:visible}
.tt-fill{position:absolute;left:0;top:0;bottom:0;border-radius:4px;background:var(--tt-ok);transition:width .3s}
.tt-fill.tt-warn{background:var(--tt-warn)}.tt-fill.tt-over{background:var(--tt-bad)}
.tt-tick{position:absolute;top:-3px;bottom:-3px;width:2px;margin-left:-1px;background:var(--tt-muted);opacity:.7}
.tt-budget-text{font-variant-numeric:tabular-nums;white-space:nowrap}
.tt-budget-over .tt-budget-text{color:var(--tt-bad);font-weight:600}
.tt-runs{margin-top:8px;max-height:240px;overflow:auto;border:1px solid var(--tt-border);border-radius:4px}
.tt-table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
.tt-table th{position:sticky;top:0;background:var(--tt-bg2);cursor:pointer;user-select:none;text-align:left;font-weight:600;
  padding:3px 8px;border-bottom:1px solid var(--tt-border);white-space:nowrap}
.tt-table th.tt-asc::after{content:" ▲";font-size:9px}.tt-table th.tt-desc::after{content:" ▼";font-size:9px}
.tt-table td{padding:2px 8px;border-bottom:1px solid var(--tt-bg2);white-space:nowrap;max-width:260px;overflow:hidden;text-overflow:ellipsis}
.tt-table .tt-num{text-align:right}
.tt-table tbody tr{cursor:pointer}.tt-table tbody tr:hover{background:var(--tt-bg2)}
.tt-table tr.tt-selected{background:color-mix(in srgb,var(--tt-accent) 18%,transparent)}
.tt-runs-note{color:var(--tt-muted);padding:2px 8px}.tt-runs-note:empty{display:none}
.tt-charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:8px;margin-top:8px}
.tt-chart{min-width:0}.tt-chart-full{grid-column:1/-1}
.tt-chart-host{width:100%}
.tt-chart-host .vega-embed{width:100%;display:block}
.tt-chart-host .vega-embed summary{display:none}
.tt-foot{color:var(--tt-muted);margin-top:4px}
.tt-error{color:var(--tt-bad)}
`;
