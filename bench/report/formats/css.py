"""The style sheet inlined in report.html."""

FONTS = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, '
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif'
)
CSS = f"""
body {{ font-family: {FONTS}; max-width: 1100px; margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.45; }}
h1 {{ margin-bottom: 0.2em; }} h2 {{ margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }}
h3 {{ margin-top: 1.6em; }}
nav {{ font-size: 0.9em; margin-bottom: 1em; }}
table {{ border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.45em; vertical-align: top; text-align: left; }}
th {{ background: #f3f3f3; }}
.verdict {{ font-weight: bold; white-space: nowrap; }}
.v-supported {{ background: #dff0d8; }} .v-refuted {{ background: #f8d7da; }}
.v-mixed {{ background: #fff3cd; }} .v-inconclusive {{ background: #e2e3f3; }} .v-not-measurable {{ background: #e9ecef; }}
p.verdict-line {{ font-weight: bold; padding: 0.3em 0.6em; border-radius: 4px; }}
p.rule, p.small {{ font-size: 0.85em; color: #555; }}
ul.answer {{ font-size: 1.05em; }} ul.answer li {{ margin: 0.25em 0; }}
details {{ margin: 0.6em 0; }} summary {{ cursor: pointer; color: #1f63a8; }}
figure {{ margin: 1em 0; }} figure img {{ width: 100%; max-width: 1050px; height: auto; border: 1px solid #eee; }}
.gloss {{ font-size: 0.85em; color: #666; }}
figcaption {{ font-size: 0.85em; color: #555; }}
pre {{ background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }}
@media print {{ details > summary {{ display: none; }} figure {{ break-inside: avoid; }} }}
"""
